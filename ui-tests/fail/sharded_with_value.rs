use promlink::declare_metrics;

declare_metrics! {
    /// `sharded` is a flag.
    #[metric(sharded = "yes")]
    pub counter HOT_TOTAL;
}

fn main() {
    HOT_TOTAL.inc();
}
