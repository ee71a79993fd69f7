use promlink::declare_metrics;

declare_metrics! {
    /// Request duration.
    pub histogram REQUEST_DURATION_SECONDS buckets vec![0.1, 0.5, 1.0];
}

fn main() {}
