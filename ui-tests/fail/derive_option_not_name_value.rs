use promlink::LabelValue;

#[derive(LabelValue)]
pub enum Method {
    #[label(get)]
    Get,
}

fn main() {}
