use promlink::LabelValue;

#[derive(LabelValue)]
pub enum Never {}

fn main() {}
