use promlink::counted;

/// Work done.
#[counted(name = "work_done_total", labell = "x")]
fn work() {}

fn main() {}
