use promlink::declare_metrics;

declare_metrics! {
    pub counter JOBS_TOTAL;
}

fn main() {}
