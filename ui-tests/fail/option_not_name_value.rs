use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(help)]
    pub counter JOBS_TOTAL;
}

fn main() {}
