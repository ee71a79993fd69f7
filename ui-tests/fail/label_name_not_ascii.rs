use promlink::declare_metrics;

declare_metrics! {
    /// Orders.
    pub counter ORDERS_TOTAL { café: &str };
}

fn main() {}
