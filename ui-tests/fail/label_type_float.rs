use promlink::declare_metrics;

declare_metrics! {
    /// Responses by ratio.
    pub counter RESPONSES_TOTAL { ratio: f64 };
}

fn main() {
    RESPONSES_TOTAL.labels(0.5).inc();
}
