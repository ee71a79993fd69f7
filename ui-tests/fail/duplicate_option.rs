use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(help = "a", help = "b")]
    pub counter JOBS_TOTAL;
}

fn main() {}
