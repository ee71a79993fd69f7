use promlink::declare_metrics;

declare_metrics! {
    /// Messages by key.
    pub counter MESSAGES_TOTAL { key: &[u8], raw: Vec<u8> };
}

fn main() {
    MESSAGES_TOTAL.labels(b"k", vec![1]).inc();
}
