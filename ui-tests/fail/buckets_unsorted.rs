use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [0.1, 0.5, 0.25];
}

fn main() {}
