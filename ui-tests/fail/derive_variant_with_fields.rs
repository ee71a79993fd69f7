use promlink::LabelValue;

#[derive(LabelValue)]
pub enum Region {
    Eu,
    Other(String),
}

fn main() {}
