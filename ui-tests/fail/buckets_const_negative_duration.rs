use promlink::{declare_metrics, timed};

const OFFSETS: [f64; 3] = [-1.0, 0.0, 1.0];

declare_metrics! {
    /// Clock offsets: negative values are fine here.
    pub histogram CLOCK_OFFSET buckets OFFSETS;
    /// A duration cannot be negative.
    pub histogram WAIT_SECONDS buckets OFFSETS;
}

#[timed(buckets = OFFSETS)]
fn work() {}

fn main() {
    work();
}
