use promlink::declare_metrics;

declare_metrics! {
    /// Requests by tenant.
    pub counter REQUESTS_TOTAL { #[unbounded(few)] tenant_id: u32 };
}

fn main() {}
