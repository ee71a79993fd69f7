use promlink::declare_metrics;

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { method: &str, status: u16 };
}

fn use_it() {
    REQUESTS_TOTAL.labels("GET", "200").inc();
}

fn main() {}
