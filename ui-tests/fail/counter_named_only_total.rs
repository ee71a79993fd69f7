use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(name = "_total")]
    pub counter JOBS_TOTAL;
}

fn main() {}
