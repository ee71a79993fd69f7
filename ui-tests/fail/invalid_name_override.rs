use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(name = "2xx_total")]
    pub counter JOBS_TOTAL;
}

fn main() {}
