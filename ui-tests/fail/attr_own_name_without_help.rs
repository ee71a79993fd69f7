use promlink::counted;

#[counted(name = "work_total")]
fn work() {}

fn main() {}
