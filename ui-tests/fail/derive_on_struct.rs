use promlink::LabelValue;

#[derive(LabelValue)]
pub struct Region(&'static str);

fn main() {}
