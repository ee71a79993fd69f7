use promlink::declare_metrics;

const LIMIT: f64 = 1.0;
declare_metrics! {
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [0.5, LIMIT];
}

fn main() {}
