use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { method: &str, status: u16 };
}

#[counted(REQUESTS_TOTAL, labels(method = "GET"))]
fn work() {}

fn main() {}
