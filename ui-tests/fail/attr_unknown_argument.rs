use promlink::timed;

#[timed(bucket = [1.0])]
fn work() {}

fn main() {}
