use promlink::LabelValue;

#[derive(Clone, Copy, LabelValue)]
pub enum Region {
    Eu,
    #[label(rename = "")]
    Unknown,
}

fn main() {}
