//! A real Prometheus 2.42 with `--enable-feature=native-histograms` asks for protobuf
//! first: promlink's server answers in protobuf, and Prometheus ingests it. Between them
//! sits a recorder that passes every byte along and keeps the `Accept` header that
//! Prometheus sent and the `Content-Type` that promlink answered with.
//!
//! Then the seed's queries over the protobuf scrapes: the counter's rate matches the
//! driven rate, and `histogram_quantile(0.95, ..)` over the classic `_bucket` series
//! lands in the bucket of the driven latencies' 95th percentile. With
//! `exemplar-storage` on too, `/api/v1/query_exemplars` returns the trace ids and values
//! that the counter and the histogram's buckets carried.
//!
//! Native histograms, one alone and one beside classic buckets, observe known values:
//! `histogram_count` and `histogram_sum` of the last scrape equal them, and
//! `histogram_quantile(0.95, rate(..))` lies in the bucket that the schema gives the 95th
//! percentile. What Prometheus 2.42 does with a histogram that has both kinds of buckets:
//! it stores the native histogram only, and no `_bucket`, `_count` or `_sum` series
//! (ingesting both came with `scrape_classic_histograms` in 2.45); the test asserts it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use promlink::{declare_metrics, start_http_server, Format, Histogram, NativeBuckets};

mod support {
    pub mod prometheus;
}

declare_metrics! {
    /// Total HTTP requests.
    counter HTTP_REQUESTS_TOTAL { endpoint: &str };
    /// Request duration in seconds.
    histogram HTTP_REQUEST_DURATION_SECONDS buckets [0.05, 0.1, 0.25, 0.5, 1.0];
    /// Queue wait in seconds, native buckets only.
    histogram QUEUE_WAIT_SECONDS native;
    /// Job duration in seconds, classic and native buckets.
    histogram JOB_DURATION_SECONDS buckets [0.1, 1.0] native(schema = 2);
}

/// What the recorder saw of each scrape: the request's `Accept`, the reply's
/// `Content-Type`.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Passes connections on `listener` to `upstream`, one request each (Prometheus scrapes
/// once a second), noting the two headers.
fn record(listener: &TcpListener, upstream: &str, seen: &Seen) {
    for client in listener.incoming() {
        let Ok(client) = client else { return };
        let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
        let mut request = BufReader::new(client);
        let mut head = Vec::new();
        let mut accept = String::new();
        loop {
            let mut line = String::new();
            if request.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("accept") {
                    value.trim().clone_into(&mut accept);
                }
            }
            // One request per connection: the reply is read to its end below.
            if !line.to_ascii_lowercase().starts_with("connection:") {
                head.extend_from_slice(line.as_bytes());
            }
            if line == "\r\n" {
                break;
            }
        }
        let end = head.len() - 2;
        head.splice(end..end, *b"Connection: close\r\n");
        let Ok(mut server) = TcpStream::connect(upstream) else {
            return;
        };
        server.write_all(&head).unwrap();
        let mut reply = Vec::new();
        server.read_to_end(&mut reply).unwrap();
        let reply_head = String::from_utf8_lossy(&reply[..reply.len().min(1024)]).into_owned();
        let content_type = reply_head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            })
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        seen.lock().unwrap().push((accept, content_type));
        let mut client = request.into_inner();
        let _ = client.write_all(&reply);
    }
}

#[test]
fn prometheus_with_native_histograms_scrapes_protobuf() {
    let server = start_http_server("127.0.0.1:0").unwrap();
    let recorder = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = recorder.local_addr().unwrap().to_string();
    let seen = Seen::default();
    {
        let (upstream, seen) = (server.local_addr().to_string(), seen.clone());
        std::thread::spawn(move || record(&recorder, &upstream, &seen));
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("prometheus-protobuf-{}", std::process::id()));
    let prometheus = support::prometheus::start_with_features(
        &dir,
        &target,
        &["native-histograms", "exemplar-storage"],
    );

    // Each 100 ms: 10 requests, 9 taking 0.07 s (bucket 0.1), 1 taking 0.3 s (bucket 0.5).
    // The last request of each round carries an exemplar: its round as a trace id.
    let started = Instant::now();
    let mut requests = 0_u32;
    let mut traces = Vec::new();
    let (mut waits, mut wait_sum) = (0_u32, 0.0);
    while started.elapsed() < Duration::from_secs(8) {
        // The same shape for the native histograms: 9 in 10 at 0.07 s, 1 in 10 at 0.3 s.
        for value in [0.3, 0.07, 0.07, 0.07, 0.07, 0.07, 0.07, 0.07, 0.07, 0.07] {
            QUEUE_WAIT_SECONDS.observe(value);
            JOB_DURATION_SECONDS.observe(value);
            waits += 1;
            wait_sum += value;
        }
        for _ in 0..9 {
            HTTP_REQUESTS_TOTAL.labels("/api/orders").inc();
            HTTP_REQUEST_DURATION_SECONDS.observe(0.07);
        }
        let trace = format!("{:016x}", 0xabc0_0000 + traces.len());
        let exemplar = [("trace_id", trace.as_str())];
        HTTP_REQUESTS_TOTAL
            .labels("/api/orders")
            .inc_with_exemplar(&exemplar)
            .unwrap();
        HTTP_REQUEST_DURATION_SECONDS
            .observe_with_exemplar(0.3, &exemplar)
            .unwrap();
        traces.push(trace);
        requests += 10;
        std::thread::sleep(Duration::from_millis(100));
    }
    let driven_rate = f64::from(requests) / started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));

    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 5, "scrapes seen: {seen:?}");
    for (accept, content_type) in &seen {
        assert_eq!(
            Format::from_accept(Some(accept)),
            Format::Protobuf,
            "{accept}"
        );
        assert_eq!(
            content_type,
            Format::Protobuf.content_type(),
            "asked {accept}"
        );
    }

    let window = "[5s]";
    let rate = prometheus.scalar(&format!(
        "sum(rate(http_requests_total{{endpoint=\"/api/orders\"}}{window} offset 2s))"
    ));
    assert!(
        (rate / driven_rate - 1.0).abs() < 0.2,
        "rate {rate}/s, driven {driven_rate}/s"
    );
    let p95 = prometheus.scalar(&format!(
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{window} offset 2s)))"
    ));
    assert!(
        (0.25..=0.5).contains(&p95),
        "p95 {p95} outside the bucket (0.25, 0.5]"
    );
    assert_exemplars(&prometheus, &traces);
    assert_native_histograms(&prometheus, window, waits, wait_sum);
    let (kind, help) = prometheus.metadata("http_requests_total");
    assert_eq!(
        (kind.as_str(), help.as_str()),
        ("counter", "Total HTTP requests.")
    );
    server.stop();
}

/// The native histograms' answers: `waits` observations summing to `wait_sum`, one in ten
/// of 0.3 s, the others of 0.07 s.
fn assert_native_histograms(
    prometheus: &support::prometheus::Prometheus,
    window: &str,
    waits: u32,
    wait_sum: f64,
) {
    // The last scrape came after the last observation: its count and sum are all of them.
    for name in ["queue_wait_seconds", "job_duration_seconds"] {
        let count = prometheus.scalar(&format!("histogram_count({name})"));
        assert_eq!(count, f64::from(waits), "{name}");
        let sum = prometheus.scalar(&format!("histogram_sum({name})"));
        assert!(
            (sum / wait_sum - 1.0).abs() < 1e-9,
            "{name}: sum {sum}, observed {wait_sum}"
        );
    }
    // The 95th percentile of 0.07 and 0.3 (one in ten) is in 0.3's bucket, at schema 3 for
    // `native` alone and at the schema declared for the other.
    for (name, schema) in [("queue_wait_seconds", 3), ("job_duration_seconds", 2)] {
        let p95 = prometheus.scalar(&format!(
            "histogram_quantile(0.95, rate({name}{window} offset 2s))"
        ));
        let native = Histogram::native(NativeBuckets::schema(schema));
        native.observe(0.3);
        let (index, _) = native.native_snapshot().unwrap().positive[0];
        let snapshot = native.native_snapshot().unwrap();
        let bucket = snapshot.upper_bound(index - 1)..=snapshot.upper_bound(index);
        assert!(
            bucket.contains(&p95),
            "{name}: p95 {p95} outside {bucket:?}"
        );
    }
    // Prometheus 2.42 keeps the native histogram of a histogram that has both, and no
    // classic series: its `_bucket` series are not there to query.
    let classic = prometheus.api(
        "/api/v1/series",
        &[("match[]", "{__name__=~\"job_duration_seconds_.*\"}")],
    );
    assert_eq!(classic.as_array().map(Vec::len), Some(0), "{classic}");
}

/// The exemplars Prometheus stored: the traces sent, on the counter and on the classic
/// histogram's bucket of 0.3 s.
fn assert_exemplars(prometheus: &support::prometheus::Prometheus, traces: &[String]) {
    for (series, value, le) in [
        ("http_requests_total", 1.0, None),
        ("http_request_duration_seconds_bucket", 0.3, Some("0.5")),
    ] {
        let end = promlink::unix_time();
        let data = prometheus.api(
            "/api/v1/query_exemplars",
            &[
                ("query", series),
                ("start", &(end - 30.0).to_string()),
                ("end", &end.to_string()),
            ],
        );
        let found = data.as_array().unwrap_or_else(|| panic!("{data}"));
        assert_eq!(found.len(), 1, "one series with exemplars: {data}");
        if let Some(le) = le {
            assert_eq!(found[0]["seriesLabels"]["le"], le, "{data}");
        }
        let exemplars = found[0]["exemplars"].as_array().unwrap();
        // One a scrape at least (each keeps the latest), all from the traffic.
        assert!(exemplars.len() >= 5, "{series}: {data}");
        for exemplar in exemplars {
            let trace = exemplar["labels"]["trace_id"].as_str().unwrap();
            assert!(traces.iter().any(|t| t == trace), "{trace} was never sent");
            let seen: f64 = exemplar["value"].as_str().unwrap().parse().unwrap();
            assert_eq!(seen, value, "{series}: {exemplar}");
        }
    }
}
