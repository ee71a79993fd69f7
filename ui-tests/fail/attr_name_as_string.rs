use promlink::counted;

/// Places an order.
#[counted("orders_placed_total")]
fn place_order() {}

fn main() {
    place_order();
}
