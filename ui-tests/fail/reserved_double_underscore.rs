use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL { __queue: &str };
}

fn main() {}
