//! A real Prometheus 2.42 with `--enable-feature=exemplar-storage,native-histograms`
//! scrapes the quickstart binary as a user runs it (`--listen ADDR`), over protobuf:
//!
//! - `/api/v1/query_exemplars` returns the trace ids the requests' counters carried, and
//!   the duration histogram's, with the observed values;
//! - the request duration histogram is stored as a native histogram: its count agrees
//!   with the request counter's, and `histogram_quantile(0.95, ..)` of the quickstart's
//!   latencies (uniform over 0 to 0.6 s, so 0.57 s) is within the schema's bucket width
//!   (9% at schema 3);
//! - its classic `_bucket` series are not stored: Prometheus 2.42 ingests the native
//!   histogram of a histogram that has both kinds of buckets, and only that
//!   (`scrape_classic_histograms`, which keeps both, came in 2.45). Scraped in text or
//!   OpenMetrics, as by a Prometheus without the feature, the classic buckets are what
//!   it gets (`prometheus_e2e`, `promtool`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[allow(dead_code)] // each test uses what it needs
mod support {
    pub mod prometheus;
    pub mod tools;
}

/// The quickstart, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `text` looks like a trace id the quickstart makes: 32 hex digits.
fn is_trace_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn prometheus_stores_the_quickstarts_exemplars_and_native_histogram() {
    let address = format!("127.0.0.1:{}", support::prometheus::free_port());
    let _quickstart = Running(
        Command::new(support::tools::example("quickstart"))
            .args(["--listen", &address])
            .stdout(Stdio::null())
            .spawn()
            .expect("run the quickstart"),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the quickstart never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("prometheus-quickstart-{}", std::process::id()));
    let prometheus = support::prometheus::start_with_features(
        &dir,
        &address,
        &["native-histograms", "exemplar-storage"],
    );
    // Ten bursts of 50 requests, one a second, scraped each second.
    std::thread::sleep(Duration::from_secs(11));

    let end = promlink::unix_time();
    for (series, value_of) in [
        ("http_requests_total", Some(1.0)),
        ("http_request_duration_seconds", None),
    ] {
        let data = prometheus.api(
            "/api/v1/query_exemplars",
            &[
                ("query", series),
                ("start", &(end - 60.0).to_string()),
                ("end", &end.to_string()),
            ],
        );
        let found = data.as_array().unwrap_or_else(|| panic!("{data}"));
        assert!(!found.is_empty(), "{series}: no exemplars: {data}");
        for exemplar in found
            .iter()
            .flat_map(|s| s["exemplars"].as_array().unwrap())
        {
            let trace = exemplar["labels"]["trace_id"].as_str().unwrap();
            assert!(is_trace_id(trace), "{series}: trace id {trace:?}");
            let value: f64 = exemplar["value"].as_str().unwrap().parse().unwrap();
            match value_of {
                Some(expected) => assert_eq!(value, expected, "{exemplar}"),
                // A latency: the quickstart's are from 0 to 0.6 s.
                None => assert!((0.0..0.6).contains(&value), "{exemplar}"),
            }
        }
    }

    let window = "[8s] offset 1s";
    let observed = prometheus.scalar(&format!(
        "histogram_count(sum(rate(http_request_duration_seconds{window})))"
    ));
    let counted = prometheus.scalar(&format!("sum(rate(http_requests_total{window}))"));
    assert!(
        (observed / counted - 1.0).abs() < 0.05,
        "{observed} observations a second, {counted} requests"
    );
    let p95 = prometheus.scalar(&format!(
        "histogram_quantile(0.95, sum(rate(http_request_duration_seconds{window})))"
    ));
    // Schema 3: neighbouring bounds 2^(1/8) = 1.09 apart.
    let width = 2f64.powf(0.125);
    assert!(
        (0.57 / width..=0.57 * width).contains(&p95),
        "p95 {p95}, not within a bucket's width of 0.57"
    );

    let classic = prometheus.api(
        "/api/v1/series",
        &[(
            "match[]",
            "{__name__=~\"http_request_duration_seconds_(bucket|count|sum)\"}",
        )],
    );
    assert_eq!(classic.as_array().map(Vec::len), Some(0), "{classic}");
}
