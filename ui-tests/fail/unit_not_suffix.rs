use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    #[metric(unit = "seconds")]
    pub histogram LATENCY;
}

fn main() {}
