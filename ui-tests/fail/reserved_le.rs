use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS { le: &str };
}

fn main() {}
