use promlink::timed;

/// Work duration.
#[timed(name = "work_duration")]
fn work() {}

fn main() {}
