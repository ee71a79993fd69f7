use promlink::counted;

#[counted(labels(method = "GET"))]
fn work() {}

fn main() {}
