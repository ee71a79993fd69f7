use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL {};
}

fn main() {}
