use promlink::counted;

#[counted(skip)]
fn work() {}

fn main() {}
