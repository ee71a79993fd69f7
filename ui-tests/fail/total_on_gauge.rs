use promlink::declare_metrics;

declare_metrics! {
    /// Queue.
    pub gauge QUEUE_TOTAL;
}

fn main() {}
