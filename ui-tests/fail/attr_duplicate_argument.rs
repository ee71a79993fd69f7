use promlink::timed;

#[timed(buckets = [1.0], buckets = [2.0])]
fn work() {}

fn main() {}
