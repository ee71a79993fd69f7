use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { method: &str };
}

#[counted(REQUESTS_TOTAL, labels(method = "GET", path = "/"))]
fn work() {}

fn main() {}
