use promlink::{counted, declare_metrics, in_progress, timed};

declare_metrics! {
    /// Connections open.
    pub gauge CONNECTIONS;
    /// Requests.
    pub counter REQUESTS_TOTAL { endpoint: &str };
    /// Jobs.
    pub counter JOBS_TOTAL;
}

#[counted(CONNECTIONS)]
fn open() {}

#[timed(REQUESTS_TOTAL, labels(endpoint = "/"))]
fn serve() {}

#[in_progress(JOBS_TOTAL)]
fn run_job() {}

fn main() {
    open();
    serve();
    run_job();
}
