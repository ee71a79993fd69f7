use promlink::declare_metrics;

declare_metrics! {
    /// Latency.
    #[metric(unit = "milli-seconds")]
    pub histogram LATENCY_MILLI_SECONDS;
}

fn main() {}
