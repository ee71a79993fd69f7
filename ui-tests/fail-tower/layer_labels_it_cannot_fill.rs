use promlink::declare_metrics;
use promlink::tower::HttpMetrics;

declare_metrics! {
    /// Requests by route: the layer knows no `route`.
    pub counter ROUTES_TOTAL { route: &str };
    /// Requests in flight by status: not known while in flight.
    pub gauge IN_FLIGHT_BY_STATUS { status: u16 };
    /// Not a histogram.
    pub gauge DURATION_SECONDS { endpoint: &str };
}

fn main() {
    let _ = HttpMetrics::builder()
        .requests(&ROUTES_TOTAL)
        .in_flight(&IN_FLIGHT_BY_STATUS)
        .duration(&DURATION_SECONDS);
}

declare_metrics! {
    /// The right names, a type the layer's text cannot go into.
    pub counter WRONG_TYPES_TOTAL { endpoint: u32, status: bool };
}

fn wrong_types() {
    let _ = HttpMetrics::builder().requests(&WRONG_TYPES_TOTAL);
}
