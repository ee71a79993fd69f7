use promlink::counted;

/// Work done.
#[counted(name = "work done_total")]
fn work() {}

fn main() {}
