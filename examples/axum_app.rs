//! An axum service with request metrics from [`MetricsLayer`] and `/metrics` on the same
//! port. The layer feeds the seed's own `http_requests_total{method,endpoint,status}` and
//! `http_request_duration_seconds{endpoint}` (with the seed's buckets), declared here; it
//! keeps one family of its own, `http_server_active_requests{method,endpoint}`.
//!
//! `cargo run --example axum_app --features axum` serves on 127.0.0.1:3000 (`--listen
//! ADDR` for another address). Then `curl localhost:3000/orders/7`, `curl
//! localhost:3000/orders/10` (a simulated failure) and `curl localhost:3000/metrics`: both
//! orders are counted under `endpoint="/orders/{id}"`, the route's template.

use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use promlink::tower::{HttpMetrics, MetricsLayer};
use promlink::{counted, declare_metrics, Registry};

#[path = "support/cli.rs"]
mod cli;

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Request duration in seconds.
    pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str }
        buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    /// Orders looked up, by whether the store had them.
    pub counter ORDER_LOOKUPS_TOTAL { found: bool };
}

/// Looks an order up in a simulated store: it takes 30 ms, 300 ms for ids ending in 9,
/// and fails for ids ending in 0.
#[counted]
async fn load_order(id: u64) -> Result<String, &'static str> {
    let millis = if id % 10 == 9 { 300 } else { 30 };
    tokio::time::sleep(Duration::from_millis(millis)).await;
    if id.is_multiple_of(10) {
        ORDER_LOOKUPS_TOTAL.labels(false).inc();
        return Err("the order store is unavailable");
    }
    ORDER_LOOKUPS_TOTAL.labels(true).inc();
    Ok(format!("order {id}\n"))
}

async fn order(Path(id): Path<u64>) -> Result<String, (StatusCode, &'static str)> {
    load_order(id)
        .await
        .map_err(|why| (StatusCode::INTERNAL_SERVER_ERROR, why))
}

/// The application: its routes, the metrics layer over them, and `/metrics` outside it so
/// that scrapes are not counted as traffic.
pub fn app() -> Router {
    Router::new()
        .route("/orders/{id}", get(order))
        .route("/health", get(|| async { "ok\n" }))
        .layer(MetricsLayer::with_metrics(http_metrics().clone()))
        .route("/metrics", promlink::axum::metrics_route())
}

/// The layer's families: the two declared above, and its own in-flight gauge, registered
/// once.
fn http_metrics() -> &'static HttpMetrics {
    static METRICS: std::sync::OnceLock<HttpMetrics> = std::sync::OnceLock::new();
    METRICS.get_or_init(|| {
        HttpMetrics::builder()
            .requests(&HTTP_REQUESTS_TOTAL)
            .duration(&HTTP_REQUEST_DURATION_SECONDS)
            .register(Registry::global())
            .expect("the layer's families are free")
    })
}

#[tokio::main]
async fn main() {
    let listen = cli::options("127.0.0.1:3000").listen;
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "serving on http://{}/ (metrics on /metrics; Ctrl-C to stop)",
        listener.local_addr().expect("a bound address")
    );
    if let Err(e) = axum::serve(listener, app()).await {
        eprintln!("the server stopped: {e}");
        std::process::exit(1);
    }
}
