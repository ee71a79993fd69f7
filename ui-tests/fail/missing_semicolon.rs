use promlink::declare_metrics;

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: &str }
    /// Current active connections.
    pub gauge ACTIVE_CONNECTIONS;
}

fn main() {}
