use promlink::declare_metrics;

declare_metrics! {
    /// Too many dimensions.
    pub counter EVENTS_TOTAL {
        a: &str, b: &str, c: &str, d: &str, e: &str, f: &str, g: &str,
        h: &str, i: &str, j: &str, k: &str, l: &str, m: &str,
    };
}

fn main() {
    EVENTS_TOTAL.labels("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m").inc();
}
