use promlink::declare_metrics;

pub enum Region {
    Eu,
    Us,
}

declare_metrics! {
    /// Requests.
    pub counter REQUESTS_TOTAL { region: Region };
}

fn main() {}
