//! The axum example end to end: a real Prometheus (Debian's 2.42) scrapes the example
//! app's own `/metrics` on loopback every second while the test sends it real HTTP
//! requests, and Prometheus' answers match the traffic: the route template as the
//! endpoint, the request rate, the 95th percentile's bucket and the error percentage,
//! all from what `MetricsLayer` recorded into the seed's declared metrics.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[allow(dead_code)] // its `main` is the example's, not ours
#[path = "../examples/axum_app.rs"]
mod axum_app;

mod support {
    pub mod prometheus;
}

#[test]
fn prometheus_reads_the_axum_apps_request_metrics() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, axum_app::app()).await });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("prometheus-axum-{}", std::process::id()));
    let prometheus = support::prometheus::start(&dir, &address.to_string());

    // Four clients for nine seconds, each cycling through ids 1..=10: one in ten fails
    // (id 10, a 500), one in ten is slow (id 9, 300 ms; the rest take 30 ms), so the 95th
    // percentile lies in the seed's bucket (0.25, 0.5]. Each client also checks health.
    let (orders, health, failed) = (AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let agent = ureq::Agent::new_with_config(
                    ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build(),
                );
                for id in (1..=10).cycle() {
                    if started.elapsed() >= Duration::from_secs(9) {
                        break;
                    }
                    let status = agent
                        .get(&format!("http://{address}/orders/{id}"))
                        .call()
                        .unwrap()
                        .status();
                    orders.fetch_add(1, Relaxed);
                    if status == 500 {
                        failed.fetch_add(1, Relaxed);
                    }
                    agent
                        .get(&format!("http://{address}/health"))
                        .call()
                        .unwrap();
                    health.fetch_add(1, Relaxed);
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));

    prometheus.assert_up_with_metadata("Total HTTP requests.", "Request duration in seconds.");

    let window = "[6s] offset 2s";
    let rate = |endpoint: &str| {
        prometheus.scalar(&format!(
            "sum(rate(http_requests_total{{endpoint=\"{endpoint}\"}}{window}))"
        ))
    };
    let (orders_rate, health_rate) = (rate("/orders/{id}"), rate("/health"));
    let driven = |n: &AtomicU32| f64::from(n.load(Relaxed)) / elapsed;
    assert!(
        (orders_rate / driven(&orders) - 1.0).abs() < 0.2,
        "orders: {orders_rate}/s, driven {}/s",
        driven(&orders)
    );
    assert!(
        (health_rate / driven(&health) - 1.0).abs() < 0.2,
        "health: {health_rate}/s, driven {}/s",
        driven(&health)
    );
    let raw_paths = prometheus.api(
        "/api/v1/series",
        &[(
            "match[]",
            "http_requests_total{endpoint=~\"/orders/[0-9]+\"}",
        )],
    );
    assert_eq!(raw_paths.as_array().map(Vec::len), Some(0), "{raw_paths}");

    let p95 = prometheus.scalar(&format!(
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{endpoint=\"/orders/{{id}}\"}}{window})))"
    ));
    assert!(
        (0.25..=0.5).contains(&p95),
        "p95 {p95} outside the bucket (0.25, 0.5]"
    );

    let error_percent = prometheus.scalar(&format!(
        "sum(rate(http_requests_total{{status=~\"5..\"}}{window})) / sum(rate(http_requests_total{window})) * 100"
    ));
    let injected = 100.0 * f64::from(failed.load(Relaxed))
        / f64::from(orders.load(Relaxed) + health.load(Relaxed));
    assert!(
        (error_percent - injected).abs() < 1.0,
        "error rate {error_percent}%, injected {injected}%"
    );
}
