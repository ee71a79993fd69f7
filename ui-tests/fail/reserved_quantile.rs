use promlink::declare_metrics;

declare_metrics! {
    /// Sizes.
    pub summary SIZES_BYTES { quantile: &str };
}

fn main() {}
