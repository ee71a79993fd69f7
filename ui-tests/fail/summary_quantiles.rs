use promlink::declare_metrics;

declare_metrics! {
    /// Response sizes.
    pub summary RESPONSE_SIZE_BYTES quantiles [0.5, 0.9, 0.99];
}

fn main() {}
