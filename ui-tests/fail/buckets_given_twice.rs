use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [0.1, 1] buckets [0.5, 5];
}

fn main() {}
