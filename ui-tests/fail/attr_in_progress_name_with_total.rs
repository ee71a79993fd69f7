use promlink::in_progress;

/// Work in progress.
#[in_progress(name = "work_total")]
fn work() {}

fn main() {}
