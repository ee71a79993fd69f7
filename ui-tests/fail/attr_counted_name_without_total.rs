use promlink::counted;

/// Work done.
#[counted(name = "work_done")]
fn work() {}

fn main() {}
