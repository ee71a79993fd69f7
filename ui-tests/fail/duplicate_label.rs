use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL { queue: &str, queue: &str };
}

fn main() {}
