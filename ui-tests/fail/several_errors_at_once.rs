use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS;
    pub gauge QUEUE;
    /// Latency.
    pub histogram LATENCY_SECONDS { le: &str } buckets [1.0, 0.5];
}

fn main() {}
