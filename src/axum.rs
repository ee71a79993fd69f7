//! axum integration: a `/metrics` route, and (from [`crate::tower`]) the request metrics
//! layer, which reads axum's matched route template.
//!
//! ```
//! use axum::{routing::get, Router};
//! use promlink::tower::MetricsLayer;
//!
//! let app: Router = Router::new()
//!     .route("/orders/{id}", get(|| async { "an order" }))
//!     .layer(MetricsLayer::new())
//!     .route("/metrics", promlink::axum::metrics_route());
//! ```
//!
//! Add the layer with `Router::layer` after the routes it should see, and the `/metrics`
//! route after the layer so that scrapes are not counted as traffic.

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{any, MethodRouter};

use crate::Registry;

/// The `/metrics` route for the global registry: every method goes to
/// [`metrics_handler`], which answers `405` to those other than `GET` and `HEAD`.
pub fn metrics_route<S>() -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    any(metrics_handler)
}

/// An axum handler serving the global registry as
/// [`metrics_response`](crate::http::metrics_response) does: format from `Accept`, gzip,
/// `name[]` filters; a collector that fails or is late loses its own families. The
/// encoding and the collectors run on tokio's blocking threads, off the async workers.
pub async fn metrics_handler(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let encode = move || crate::http::metrics_response(Registry::global(), &method, &uri, &headers);
    let response = tokio::task::spawn_blocking(encode)
        .await
        .unwrap_or_else(|_| {
            let message = "An error has occurred while gathering metrics.\n";
            crate::http::plain(StatusCode::INTERNAL_SERVER_ERROR, message, None)
        });
    response.map(Body::from)
}
