#![deny(dead_code)]

use promlink::counted;

#[counted]
fn never_used() {}

fn main() {}
