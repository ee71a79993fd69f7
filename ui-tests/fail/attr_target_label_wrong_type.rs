use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { status: u16 };
}

#[counted(REQUESTS_TOTAL, labels(status = "200"))]
fn work() {}

fn main() {}
