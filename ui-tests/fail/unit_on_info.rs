use promlink::declare_metrics;

declare_metrics! {
    /// Build.
    #[metric(unit = "info")]
    pub info BUILD_INFO;
}

fn main() {}
