use promlink::LabelValue;

#[derive(LabelValue)]
pub enum Method {
    #[label(name = "GET")]
    Get,
}

fn main() {}
