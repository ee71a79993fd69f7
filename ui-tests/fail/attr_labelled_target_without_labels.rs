use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Orders placed, by channel.
    pub counter ORDERS_TOTAL { channel: &str };
}

#[counted(ORDERS_TOTAL)]
fn place_order(channel: &str) -> usize {
    channel.len()
}

fn main() {
    place_order("web");
}
