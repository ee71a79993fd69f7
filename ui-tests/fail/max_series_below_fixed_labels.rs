use promlink::{declare_metrics, LabelValue};

#[derive(Clone, Copy, LabelValue)]
pub enum Method {
    Get,
    Post,
    Put,
}

declare_metrics! {
    /// Three methods, two outcomes: six label sets before any user, a limit of four.
    #[metric(max_series = 4)]
    pub counter REQUESTS_TOTAL { method: Method, ok: bool, user: String };
}

fn main() {}
