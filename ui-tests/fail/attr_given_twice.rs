use promlink::{counted, declare_metrics, timed};

declare_metrics! {
    /// Loads.
    pub counter LOADS_TOTAL;
}

#[counted]
#[counted]
fn twice() {}

#[timed(buckets = [0.1])]
#[promlink::timed]
fn timed_twice() {}

// A target beside the shared family feeds two metrics: allowed.
#[counted]
#[counted(LOADS_TOTAL)]
fn shared_and_target() {}

fn main() {
    twice();
    timed_twice();
    shared_and_target();
}

// Two metrics of their own, by name: allowed.
#[counted(name = "a_calls_total", help = "A.")]
#[counted(name = "b_calls_total", help = "B.")]
fn two_names() {}

fn uses() {
    two_names();
}
