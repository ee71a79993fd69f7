use promlink::counted;

#[counted]
fn answer() -> u32 {
    let text = "forty-two";
    text
}

fn main() {}
