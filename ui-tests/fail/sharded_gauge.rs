use promlink::declare_metrics;

declare_metrics! {
    /// Only counters are sharded.
    #[metric(sharded)]
    pub gauge QUEUE_DEPTH;
}

fn main() {}
