use promlink::timed;

#[timed]
async fn answer() -> u32 {
    "forty-two"
}

fn main() {}
