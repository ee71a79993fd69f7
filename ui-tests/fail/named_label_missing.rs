use promlink::declare_metrics;

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { method: &str, status: u16 };
}

fn use_it() {
    REQUESTS_TOTAL.with(RequestsTotalLabels { method: "GET" }).inc();
}

fn main() {}
