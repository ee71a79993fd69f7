use promlink::{declare_metrics, timed};

declare_metrics! {
    /// Every setting wrong: each is reported.
    pub histogram LATENCY_SECONDS native(schema = 9, max_buckets = 0, zero_threshold = -1.0, width = 2);
    /// Schema and factor both.
    pub histogram BOTH_SECONDS native(schema = 3, factor = 1.1);
    /// Not a literal, and a factor too small.
    pub histogram SIZE_BYTES native(factor = 1.0, max_buckets = LIMIT);
    /// Native buckets on a counter.
    pub counter REQUESTS_TOTAL native;
}

const LIMIT: u32 = 10;

#[timed(native(schema = 2.5))]
fn handler() {}

#[promlink::counted(native)]
fn counted() {}

fn main() {
    handler();
    counted();
}
