use promlink::declare_metrics;

declare_metrics! {
    /// Logins, by region when known.
    pub counter LOGINS_TOTAL { region: Option<&str> };
}

fn main() {
    LOGINS_TOTAL.labels(Some("eu")).inc();
    LOGINS_TOTAL.labels(None).inc();
}
