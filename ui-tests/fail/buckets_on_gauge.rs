use promlink::declare_metrics;

declare_metrics! {
    /// Queue.
    pub gauge QUEUE buckets [1.0];
}

fn main() {}
