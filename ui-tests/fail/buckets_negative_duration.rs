use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [-1.0, 0.5];
}

fn main() {}
