//! A real Prometheus (the Debian package, 2.42) scrapes promlink's server on loopback
//! every second while the test drives known traffic, then answers the seed's queries:
//! the target is up, the metadata API reports the declared types and help,
//! `rate(http_requests_total[..])` matches the driven rate, `histogram_quantile(0.95, ..)`
//! lands in the bucket of the driven latencies' 95th percentile, and the error-rate
//! percentage matches the injected error ratio.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use promlink::{declare_metrics, start_http_server};
use serde_json::Value;

declare_metrics! {
    /// Total HTTP requests.
    counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Request duration in seconds.
    histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str } buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
}

/// Kills Prometheus when the test ends, however it ends.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(dir: &Path, target: &str) -> (Prometheus, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: promlink\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let api = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={api}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is not installed: apt-get install prometheus");
    let prometheus = Prometheus(child);
    let base = format!("http://{api}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{base}/-/ready")).call().is_err() {
        assert!(Instant::now() < deadline, "Prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (prometheus, base)
}

fn api(base: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let mut request = ureq::get(&format!("{base}{path}"));
    for (key, value) in query {
        request = request.query(*key, *value);
    }
    let body = request
        .call()
        .expect("the Prometheus API answers")
        .body_mut()
        .read_to_string()
        .unwrap();
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["status"], "success", "{body}");
    value["data"].clone()
}

/// The single value of an instant query.
fn scalar(base: &str, query: &str) -> f64 {
    let data = api(base, "/api/v1/query", &[("query", query)]);
    let result = data["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {data}"));
    assert_eq!(result.len(), 1, "{query}: {data}");
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

#[test]
fn prometheus_scrapes_and_answers_the_seeds_queries() {
    let server = start_http_server("127.0.0.1:0").unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("prometheus-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_prometheus, base) = start_prometheus(&dir, &server.local_addr().to_string());

    // Prometheus hands new targets to its scrapers every few seconds: wait for the
    // first scrape before driving traffic, so that every window below holds it all.
    let deadline = Instant::now() + Duration::from_secs(30);
    while api(
        &base,
        "/api/v1/query",
        &[("query", "up{job=\"promlink\"} == 1")],
    )["result"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the server"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Each 100 ms: 10 orders (1 failing with a 500) and 5 user lookups. Latencies: 9 in 10
    // take 0.07 s (bucket 0.1), 1 in 10 takes 0.3 s (bucket 0.5), so the 95th percentile
    // lies in (0.25, 0.5].
    let started = Instant::now();
    let mut requests = 0_u32;
    while started.elapsed() < Duration::from_secs(9) {
        for i in 0..10 {
            let status = if i == 0 { 500 } else { 200 };
            HTTP_REQUESTS_TOTAL
                .labels("GET", "/api/orders", status)
                .inc();
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

    assert_eq!(scalar(&base, "up{job=\"promlink\"}"), 1.0);

    let metadata = api(&base, "/api/v1/metadata", &[]);
    let counter = metadata
        .get("http_requests_total")
        .or_else(|| metadata.get("http_requests"))
        .unwrap_or_else(|| panic!("{metadata}"));
    assert_eq!(counter[0]["type"], "counter", "{metadata}");
    assert_eq!(counter[0]["help"], "Total HTTP requests.", "{metadata}");
    assert_eq!(
        metadata["http_request_duration_seconds"][0]["type"], "histogram",
        "{metadata}"
    );

    // Six seconds of steady traffic, ending two seconds before now: well inside the nine
    // seconds driven, and wide enough for six scrapes.
    let window = "[6s]";
    let orders = scalar(
        &base,
        &format!("sum(rate(http_requests_total{{endpoint=\"/api/orders\"}}{window} offset 2s))"),
    );
    let users = scalar(
        &base,
        &format!("sum(rate(http_requests_total{{endpoint=\"/api/users\"}}{window} offset 2s))"),
    );
    let (orders_expected, users_expected) = (driven_rate * 10.0 / 15.0, driven_rate * 5.0 / 15.0);
    assert!(
        (orders / orders_expected - 1.0).abs() < 0.2,
        "orders: {orders}/s, driven {orders_expected}/s"
    );
    assert!(
        (users / users_expected - 1.0).abs() < 0.2,
        "users: {users}/s, driven {users_expected}/s"
    );

    let p95 = scalar(&base, &format!("histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{window} offset 2s)))"));
    assert!(
        (0.25..=0.5).contains(&p95),
        "p95 {p95} outside the bucket (0.25, 0.5]"
    );

    let error_percent = scalar(
        &base,
        &format!("sum(rate(http_requests_total{{status=~\"5..\"}}{window} offset 2s)) / sum(rate(http_requests_total{window} offset 2s)) * 100"),
    );
    let injected = 100.0 / 15.0;
    assert!(
        (error_percent - injected).abs() < 0.5,
        "error rate {error_percent}%, injected {injected}%"
    );
    server.stop();
}
