use promlink::declare_metrics;

declare_metrics! {
    /// Jobs.
    pub counter JOBS_TOTAL;
    /// Latency.
    pub histogram LATENCY_SECONDS buckets [0.1, 1.0];
    /// Requests.
    pub counter REQUESTS_TOTAL { endpoint: &str };
}

fn main() {
    unlabelled();
    JOBS_TOTAL.dec();
    LATENCY_SECONDS.inc();
    REQUESTS_TOTAL.inc();
}

fn unlabelled() {
    JOBS_TOTAL.labels("emails").inc();
}
