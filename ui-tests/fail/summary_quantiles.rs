use promlink::declare_metrics;

declare_metrics! {
    /// Response sizes: quantiles out of range, out of order, not literals.
    pub summary RESPONSE_SIZE_BYTES quantiles [0.5, 99, 0.9, 0.9, HALF];
    /// None at all.
    pub summary EMPTY_SECONDS quantiles [];
    /// Quantiles on a histogram.
    pub histogram LATENCY_SECONDS quantiles [0.5];
}

const HALF: f64 = 0.5;

fn main() {}
