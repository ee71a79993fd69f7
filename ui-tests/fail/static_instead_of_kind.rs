use promlink::declare_metrics;

declare_metrics! {
    /// Total HTTP requests.
    pub static HTTP_REQUESTS_TOTAL: Counter;
}

fn main() {}
