use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter jobs_total;
}

fn main() {}
