use promlink::counted;

#[counted]
struct Work;

fn main() {}
