use promlink::timed;

#[timed(buckets = [1.0, 0.5])]
fn work() {}

fn main() {}
