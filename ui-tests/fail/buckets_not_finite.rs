use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [0.5, 1e999];
}

fn main() {}
