use promlink::declare_metrics;

declare_metrics! {
    /// Orders.
    #[metric(const_labels(service = "orders", channel = "web", __meta = "x", service = "again"))]
    pub counter ORDERS_TOTAL { channel: &str };
    /// Latency.
    #[metric(const_labels(le = "1"))]
    pub histogram LATENCY_SECONDS buckets [0.1];
    /// Not a string.
    #[metric(const_labels(region = 7))]
    pub gauge QUEUE_DEPTH;
}

fn main() {}
