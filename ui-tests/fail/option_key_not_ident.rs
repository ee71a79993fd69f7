use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(metric::name = "jobs_total")]
    pub counter JOBS_TOTAL;
}

fn main() {}
