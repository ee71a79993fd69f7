use promlink::declare_metrics;

declare_metrics! {
    /// No labels to limit.
    #[metric(max_series = 10)]
    pub counter JOBS_TOTAL;
}

fn main() {}
