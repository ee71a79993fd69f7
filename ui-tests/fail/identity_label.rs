use promlink::declare_metrics;

declare_metrics! {
    /// Logins.
    pub counter LOGINS_TOTAL { user_id: u64, email: &str };
}

fn main() {}
