//! An axum service with request metrics from [`MetricsLayer`] and `/metrics` on the same
//! port.
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
use promlink::tower::MetricsLayer;
use promlink::{counted, declare_metrics};

#[path = "support/cli.rs"]
mod cli;

declare_metrics! {
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
        .layer(MetricsLayer::new())
        .route("/metrics", promlink::axum::metrics_route())
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
