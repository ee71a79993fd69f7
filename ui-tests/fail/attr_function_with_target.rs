use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL;
}

#[counted(JOBS_TOTAL, function = "work")]
fn work() {}

fn main() {
    work();
}
