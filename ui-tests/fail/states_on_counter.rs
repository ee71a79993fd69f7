use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL states ["a"];
}

fn main() {}
