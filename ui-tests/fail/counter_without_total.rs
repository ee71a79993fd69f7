use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS;
}

fn main() {}
