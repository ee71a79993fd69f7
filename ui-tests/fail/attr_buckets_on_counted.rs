use promlink::counted;

#[counted(buckets = [1.0])]
fn work() {}

fn main() {}
