use promlink::declare_metrics;

declare_metrics! {
    /// Queue length.
    pub gauge QUEUE_COUNT;
}

fn main() {}
