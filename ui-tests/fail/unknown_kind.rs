use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub meter JOBS_TOTAL;
}

fn main() {}
