use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Requests.
    pub counter HTTP_REQUESTS_TOTAL { endpoint: &str, status: u16 };
}

struct Response {
    status: u16,
}

#[counted(HTTP_REQUESTS_TOTAL, labels(endpoint = path, status = response.status))]
fn handle(req_path: &str) -> u16 {
    let response = Response { status: 200 };
    let _ = req_path;
    response.status
}

fn main() {
    handle("/");
}
