use promlink::declare_metrics;

declare_metrics! {
    /// Build.
    pub info BUILD_INFO { version: &str };
}

fn main() {}
