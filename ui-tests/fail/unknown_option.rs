use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    #[metric(label = "x")]
    pub counter JOBS_TOTAL;
}

fn main() {}
