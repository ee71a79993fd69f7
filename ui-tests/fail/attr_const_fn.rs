use promlink::counted;

#[counted]
const fn answer() -> u32 {
    42
}

fn main() {}
