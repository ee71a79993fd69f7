//! The README's two programs as one service: its declarations, its instrumented
//! functions, the request metrics layer fed with the declared metrics on an axum app, and
//! `start_http_server`, all in one process. A scrape over HTTP has every family, each
//! once, with the traffic's values, and the registry has no conflict.

use std::io::{Read, Write};
use std::net::TcpStream;

use axum::body::Body;
use axum::http::Request;
use axum::{routing::get, Router};
use promlink::tower::{HttpMetrics, MetricsLayer};
use promlink::{counted, declare_metrics, timed, Registry};
use tower::ServiceExt;

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Current active connections.
    pub gauge ACTIVE_CONNECTIONS;
    /// Request duration in seconds.
    pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str }
        buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
}

/// Processes one order.
#[counted]
#[timed(buckets = [0.01, 0.05, 0.1])]
async fn process_order(id: u64) -> Result<(), std::io::Error> {
    if id == 0 {
        return Err(std::io::Error::other("no order 0"));
    }
    Ok(())
}

#[counted(HTTP_REQUESTS_TOTAL, labels(method = "GET", endpoint = path, status = 200))]
fn handle(path: &str) {
    let _ = path;
}

fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[tokio::test]
async fn the_readme_programs_live_together() {
    let server = promlink::start_http_server("127.0.0.1:0").unwrap();

    HTTP_REQUESTS_TOTAL.labels("GET", "/api/orders", 200).inc();
    ACTIVE_CONNECTIONS.set(42.0);
    {
        let _timer = HTTP_REQUEST_DURATION_SECONDS
            .labels("/api/orders")
            .start_timer();
    }
    HTTP_REQUEST_DURATION_SECONDS
        .labels("/api/orders")
        .time(|| handle("/api/orders"));
    process_order(7).await.unwrap();
    process_order(0).await.unwrap_err();

    let metrics = HttpMetrics::builder()
        .requests(&HTTP_REQUESTS_TOTAL)
        .duration(&HTTP_REQUEST_DURATION_SECONDS)
        .register(Registry::global())
        .unwrap();
    let app: Router = Router::new()
        .route("/orders/{id}", get(|| async { "an order" }))
        .layer(MetricsLayer::with_metrics(metrics))
        .route("/metrics", promlink::axum::metrics_route());
    for id in [1, 2, 3] {
        let request = Request::get(format!("/orders/{id}"))
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(request).await.unwrap();
    }

    Registry::global().check().expect("no conflicts");
    let body = scrape(server.local_addr());
    for family in [
        "http_requests_total counter",
        "active_connections gauge",
        "http_request_duration_seconds histogram",
        "function_calls_total counter",
        "function_duration_seconds histogram",
        "http_server_active_requests gauge",
    ] {
        assert_eq!(
            body.matches(&format!("# TYPE {family}\n")).count(),
            1,
            "{family} once in:\n{body}"
        );
    }
    for sample in [
        // One by hand, one from `handle`, none from the layer on this endpoint.
        "http_requests_total{method=\"GET\",endpoint=\"/api/orders\",status=\"200\"} 2.0\n",
        "http_requests_total{method=\"GET\",endpoint=\"/orders/{id}\",status=\"200\"} 3.0\n",
        "active_connections 42.0\n",
        "http_request_duration_seconds_count{endpoint=\"/api/orders\"} 2.0\n",
        "http_request_duration_seconds_count{endpoint=\"/orders/{id}\"} 3.0\n",
        "http_server_active_requests{method=\"GET\",endpoint=\"/orders/{id}\"} 0.0\n",
        "function_calls_total{function=\"process_order\",module=\"readme_program\",result=\"ok\"} 1.0\n",
        "function_calls_total{function=\"process_order\",module=\"readme_program\",result=\"error\"} 1.0\n",
        "function_duration_seconds_count{function=\"process_order\",module=\"readme_program\"} 2.0\n",
    ] {
        assert!(body.contains(sample), "{sample} in:\n{body}");
    }
    server.stop();
}
