use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL;
}

#[counted(JOBS_TOTAL, name = "jobs_total")]
fn work() {}

fn main() {}
