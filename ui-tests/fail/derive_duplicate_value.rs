use promlink::LabelValue;

#[derive(LabelValue)]
pub enum Method {
    Get,
    #[label(rename = "get")]
    Fetch,
}

fn main() {}
