use promlink::declare_metrics;

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method, status };
}

fn main() {}
