use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(help = 42)]
    pub counter JOBS_TOTAL;
}

fn main() {}
