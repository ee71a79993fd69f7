//! A real Prometheus (the Debian package, 2.42) scrapes promlink's server on loopback
//! every second while the test drives known traffic, then answers the seed's queries:
//! the target is up, the metadata API reports the declared types and help,
//! `rate(http_requests_total[..])` matches the driven rate, `histogram_quantile(0.95, ..)`
//! lands in the bucket of the driven latencies' 95th percentile, and the error-rate
//! percentage matches the injected error ratio. With `exemplar-storage` on, Prometheus
//! reads the failing requests' exemplars from OpenMetrics, and
//! `/api/v1/query_exemplars` returns their trace ids.

use std::path::Path;
use std::time::{Duration, Instant};

use promlink::{declare_metrics, start_http_server};

mod support {
    pub mod prometheus;
}

declare_metrics! {
    /// Total HTTP requests.
    counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Request duration in seconds.
    histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str } buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
}

#[test]
fn prometheus_scrapes_and_answers_the_seeds_queries() {
    let server = start_http_server("127.0.0.1:0").unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("prometheus-e2e-{}", std::process::id()));
    let prometheus = support::prometheus::start_with_features(
        &dir,
        &server.local_addr().to_string(),
        &["exemplar-storage"],
    );

    // Each 100 ms: 10 orders (1 failing with a 500) and 5 user lookups. Latencies: 9 in 10
    // take 0.07 s (bucket 0.1), 1 in 10 takes 0.3 s (bucket 0.5), so the 95th percentile
    // lies in (0.25, 0.5].
    let started = Instant::now();
    let mut requests = 0_u32;
    let mut traces = Vec::new();
    while started.elapsed() < Duration::from_secs(9) {
        for i in 0..10 {
            let status = if i == 0 { 500 } else { 200 };
            let orders = HTTP_REQUESTS_TOTAL.labels("GET", "/api/orders", status);
            if status == 500 {
                // Each failure with its trace, as a service would link errors to traces.
                let trace = format!("{:032x}", 0xe000 + traces.len());
                orders.inc_with_exemplar(&[("trace_id", &trace)]).unwrap();
                traces.push(trace);
            } else {
                orders.inc();
            }
            HTTP_REQUEST_DURATION_SECONDS
                .labels("/api/orders")
                .observe(if i == 9 { 0.3 } else { 0.07 });
        }
        for _ in 0..5 {
            HTTP_REQUESTS_TOTAL.labels("GET", "/api/users", 200).inc();
        }
        requests += 15;
        std::thread::sleep(Duration::from_millis(100));
    }
    let driven_rate = f64::from(requests) / started.elapsed().as_secs_f64();
    // Let the last traffic be scraped.
    std::thread::sleep(Duration::from_millis(1500));

    prometheus.assert_up_with_metadata("Total HTTP requests.", "Request duration in seconds.");

    // Six seconds of steady traffic, ending two seconds before now: well inside the nine
    // seconds driven, and wide enough for six scrapes.
    let window = "[6s]";
    let orders = prometheus.scalar(&format!(
        "sum(rate(http_requests_total{{endpoint=\"/api/orders\"}}{window} offset 2s))"
    ));
    let users = prometheus.scalar(&format!(
        "sum(rate(http_requests_total{{endpoint=\"/api/users\"}}{window} offset 2s))"
    ));
    let (orders_expected, users_expected) = (driven_rate * 10.0 / 15.0, driven_rate * 5.0 / 15.0);
    assert!(
        (orders / orders_expected - 1.0).abs() < 0.2,
        "orders: {orders}/s, driven {orders_expected}/s"
    );
    assert!(
        (users / users_expected - 1.0).abs() < 0.2,
        "users: {users}/s, driven {users_expected}/s"
    );

    let p95 = prometheus.scalar(&format!("histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{window} offset 2s)))"));
    assert!(
        (0.25..=0.5).contains(&p95),
        "p95 {p95} outside the bucket (0.25, 0.5]"
    );

    let error_percent = prometheus.scalar(
        &format!("sum(rate(http_requests_total{{status=~\"5..\"}}{window} offset 2s)) / sum(rate(http_requests_total{window} offset 2s)) * 100"),
    );
    let injected = 100.0 / 15.0;
    assert!(
        (error_percent - injected).abs() < 0.5,
        "error rate {error_percent}%, injected {injected}%"
    );
    let end = promlink::unix_time();
    let data = prometheus.api(
        "/api/v1/query_exemplars",
        &[
            ("query", "http_requests_total{status=\"500\"}"),
            ("start", &(end - 30.0).to_string()),
            ("end", &end.to_string()),
        ],
    );
    let found = data.as_array().unwrap_or_else(|| panic!("{data}"));
    assert_eq!(found.len(), 1, "{data}");
    let exemplars = found[0]["exemplars"].as_array().unwrap();
    assert!(exemplars.len() >= 5, "one a scrape at least: {data}");
    for exemplar in exemplars {
        let trace = exemplar["labels"]["trace_id"].as_str().unwrap();
        assert!(traces.iter().any(|t| t == trace), "{trace} was never sent");
        assert_eq!(exemplar["value"], "1", "{exemplar}");
    }
    server.stop();
}
