use promlink::{declare_metrics, LabelValue};

#[derive(Clone, Copy, LabelValue)]
pub enum Region {
    Eu,
    #[label(rename = "")]
    Unknown,
}

declare_metrics! {
    /// Logins, by region: the enum's error is the only one.
    pub counter LOGINS_TOTAL { region: Region };
}

fn main() {
    LOGINS_TOTAL.labels(Region::Unknown).inc();
    let _ = Region::Eu;
}
