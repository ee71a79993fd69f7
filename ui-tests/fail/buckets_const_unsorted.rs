use promlink::declare_metrics;

const LATENCY_BUCKETS: [f64; 3] = [0.5, 0.1, 1.0];

declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets LATENCY_BUCKETS;
}

fn main() {}
