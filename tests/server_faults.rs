//! The endpoint when collectors fail: a slow collector (longer than the deadline), a
//! panicking one and a failing one registered with healthy metrics. Every scrape
//! answers within the deadline with every healthy family, valid for promtool and for
//! Python's parsers; promlink's own metrics count each failure; a concurrent `404` is
//! answered at once; `stop()` returns within its grace; stderr has one line per
//! failure, no panic message and no backtrace; strict mode answers `500` without
//! internal text.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlink::{
    start_http_server_with, CollectError, Collector, Gauge, Metric, MetricFamily, MetricType,
    MetricsServer, Registry, SeriesValue, ServerOptions,
};

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod python;
    pub mod tools;
}

use support::python::{run_python, scratch_dir};
use support::tools::{in_child, promtool_accepts, requests_registry, run_alone};

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0";

/// Never answers (its thread sleeps until the test process ends).
struct Slow {
    calls: AtomicUsize,
}

impl Collector for Slow {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_hours(1));
        let mut slow = MetricFamily::new("slow_things", "Late.", MetricType::Gauge, &[])?;
        slow.add(&[], SeriesValue::Gauge(1.0))?;
        Ok(vec![slow])
    }
}

struct Panics;

impl Collector for Panics {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        panic!("the collector broke: secret internal detail")
    }
}

struct Fails;

impl Collector for Fails {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        Err("the database is down: secret internal detail".into())
    }
}

/// Healthy metrics, with and without labels, and a healthy collector.
struct Healthy;

impl Collector for Healthy {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        let mut queue = MetricFamily::new("queue_depth", "Jobs.", MetricType::Gauge, &["queue"])?;
        queue.add(&["emails"], SeriesValue::Gauge(3.0))?;
        Ok(vec![queue])
    }
}

fn troubled_registry() -> (&'static Registry, Arc<Slow>) {
    let registry = requests_registry();
    let temperature = Arc::new(Metric::new("temperature", "Temperature.", Gauge::new()));
    registry.register(temperature.clone()).unwrap();
    temperature.set(21.5);
    let slow = Arc::new(Slow {
        calls: AtomicUsize::new(0),
    });
    registry.register_collector(slow.clone());
    registry.register_collector(Arc::new(Panics));
    registry.register_collector(Arc::new(Fails));
    registry.register_collector(Arc::new(Healthy));
    (registry, slow)
}

fn serve(registry: &'static Registry, strict: bool) -> MetricsServer {
    let options = ServerOptions {
        registry,
        strict,
        shutdown_grace: Duration::from_secs(2),
        ..ServerOptions::default()
    };
    start_http_server_with("127.0.0.1:0", options).expect("bind")
}

struct Answer {
    status: u16,
    body: String,
    took: Duration,
}

fn get(addr: SocketAddr, path: &str, headers: &str) -> Answer {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        body: body.to_owned(),
        took: started.elapsed(),
    }
}

/// A scrape as Prometheus sends it, with a 1 s scrape timeout.
fn scrape(addr: SocketAddr, accept: &str) -> Answer {
    get(
        addr,
        "/metrics",
        &format!("Accept: {accept}\r\nX-Prometheus-Scrape-Timeout-Seconds: 1\r\n"),
    )
}

/// The value of the sample line starting with `series` (labels included).
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

/// The families Python's parser reads in `body`: name and type.
fn python_families(format: &str, body: &str) -> HashMap<String, String> {
    let dir = scratch_dir(&format!("server-faults-{format}"));
    let path = dir.join("exposition");
    std::fs::write(&path, body).unwrap();
    let passed = run_python("families.py", &[std::path::Path::new(format), &path])
        .unwrap_or_else(|report| panic!("{report}\n{body}"));
    std::fs::remove_dir_all(&dir).ok();
    eprint!("{}", passed.stderr);
    passed
        .stdout
        .lines()
        .map(|line| {
            let mut words = line.split(' ');
            let name = words.next().unwrap().to_owned();
            (name, words.next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn failing_collectors_cost_only_their_own_families() {
    let (registry, slow) = troubled_registry();
    let server = serve(registry, false);
    let addr = server.local_addr();

    // While a scrape waits on its collectors, other requests are answered at once.
    let waiting = std::thread::spawn(move || scrape(addr, OPENMETRICS));
    std::thread::sleep(Duration::from_millis(100));
    let not_found = get(addr, "/elsewhere", "");
    assert_eq!(not_found.status, 404);
    assert!(
        not_found.took < Duration::from_millis(300),
        "took {:?}",
        not_found.took
    );
    let waited = waiting.join().unwrap();
    assert_eq!(waited.status, 200);
    assert!(
        waited.took >= Duration::from_millis(400),
        "it waited {:?}",
        waited.took
    );

    for round in 1..=3 {
        let text = scrape(addr, "text/plain;version=0.0.4");
        assert_eq!(text.status, 200, "{}", text.body);
        // Within Prometheus's own 1 s.
        assert!(text.took < Duration::from_secs(1), "took {:?}", text.took);
        assert_eq!(
            sample(&text.body, r#"requests_total{code="200"}"#),
            Some(3.0)
        );
        assert_eq!(sample(&text.body, "temperature"), Some(21.5));
        assert_eq!(
            sample(&text.body, r#"queue_depth{queue="emails"}"#),
            Some(3.0)
        );
        assert!(!text.body.contains("slow_things"), "{}", text.body);
        assert!(!text.body.contains("secret"), "{}", text.body);
        promtool_accepts(text.body.as_bytes());

        // Each failure is counted, the slow collector's once a scrape whether it was late
        // or still running from an earlier one (after the first scrape, two a round).
        let failures = |reason: &str, collector: &str| {
            sample(
                &text.body,
                &format!(
                    r#"promlink_collector_failures_total{{collector="server_faults::{collector}",reason="{reason}"}}"#
                ),
            )
        };
        let scrapes = f64::from(round * 2);
        assert_eq!(failures("timeout", "Slow"), Some(scrapes), "{}", text.body);
        assert_eq!(failures("panic", "Panics"), Some(scrapes));
        assert_eq!(failures("error", "Fails"), Some(scrapes));

        let om = scrape(addr, OPENMETRICS);
        eprintln!(
            "round {round}: text scrape {:?}, OpenMetrics scrape {:?} (scrape timeout 1 s)",
            text.took, om.took
        );
        assert_eq!(om.status, 200);
        assert!(om.took < Duration::from_secs(1), "took {:?}", om.took);
        let families = python_families("openmetrics", &om.body);
        for (name, kind) in [
            ("requests", "counter"),
            ("temperature", "gauge"),
            ("queue_depth", "gauge"),
            ("promlink_collector_failures", "counter"),
        ] {
            assert_eq!(
                families.get(name).map(String::as_str),
                Some(kind),
                "{families:?}"
            );
        }
        assert!(!families.contains_key("slow_things"));
        let text_families = python_families("text", &text.body);
        assert!(text_families.contains_key("requests"), "{text_families:?}");
    }
    // Never started again while it still runs.
    assert_eq!(slow.calls.load(Ordering::SeqCst), 1);

    // `stop()` within its grace (2 s), while a scrape that may wait 30 s waits on a
    // collector that never answers.
    registry.register_collector(Arc::new(Slow {
        calls: AtomicUsize::new(0),
    }));
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let _ = stream.write_all(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 30\r\n\r\n",
        );
        let _ = stream.read_to_end(&mut Vec::new());
    });
    std::thread::sleep(Duration::from_millis(300));
    let stopping = Instant::now();
    server.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "stop took {:?}",
        stopping.elapsed()
    );
    assert!(
        stopping.elapsed() >= Duration::from_millis(1500),
        "stop waited {:?}, not its grace, for the scrape in progress",
        stopping.elapsed()
    );
}

#[test]
fn strict_mode_answers_500_without_internal_text() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register_collector(Arc::new(Fails));
    let server = serve(registry, true);
    let answer = scrape(server.local_addr(), OPENMETRICS);
    assert_eq!(answer.status, 500);
    assert!(!answer.body.contains("secret"), "{}", answer.body);
    assert!(!answer.body.contains("database"), "{}", answer.body);
    server.stop();
}

/// Run by `stderr_has_one_line_per_failure_and_no_backtrace` in a child process of its
/// own, so that its stderr can be read: five scrapes of a panicking and a failing
/// collector.
#[test]
fn child_scrapes_failing_collectors() {
    if !in_child() {
        return;
    }
    let registry = Registry::new();
    registry.register_collector(Arc::new(Panics));
    registry.register_collector(Arc::new(Fails));
    for _ in 0..5 {
        let mut out = Vec::new();
        assert!(registry.encode(promlink::Format::Text, &mut out).is_err());
    }
}

#[test]
fn stderr_has_one_line_per_failure_and_no_backtrace() {
    let child = run_alone(
        "child_scrapes_failing_collectors",
        &[],
        &[("RUST_BACKTRACE", "1")],
    );
    let stderr = String::from_utf8_lossy(&child.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("promlink: "))
        .collect();
    assert_eq!(ours.len(), 2, "{stderr}");
    assert!(ours
        .iter()
        .any(|l| l.contains("Panics") && l.contains("the collector broke")));
    assert!(ours
        .iter()
        .any(|l| l.contains("Fails") && l.contains("the database is down")));
    assert!(!stderr.contains("panicked at"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
}

/// Answers after 3 s.
struct Late;

impl Collector for Late {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        std::thread::sleep(Duration::from_secs(3));
        let mut late = MetricFamily::new("late_things", "Late.", MetricType::Gauge, &[])?;
        late.add(&[], SeriesValue::Gauge(1.0))?;
        Ok(vec![late])
    }
}

#[test]
fn a_client_with_a_longer_timeout_does_not_hold_up_one_with_a_shorter() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register_collector(Arc::new(Late));
    let server = serve(registry, false);
    let addr = server.local_addr();
    // A patient client: 30 s.
    let patient = std::thread::spawn(move || {
        get(
            addr,
            "/metrics",
            "X-Prometheus-Scrape-Timeout-Seconds: 30\r\n",
        )
    });
    std::thread::sleep(Duration::from_millis(200));
    // Prometheus with 1 s: answered in time, without the late family, not made to wait
    // for the patient client's encoding.
    let prometheus = scrape(addr, "text/plain;version=0.0.4");
    assert_eq!(prometheus.status, 200, "{}", prometheus.body);
    assert!(
        prometheus.took < Duration::from_secs(1),
        "took {:?}",
        prometheus.took
    );
    assert!(!prometheus.body.contains("late_things"));
    let patient = patient.join().unwrap();
    assert_eq!(patient.status, 200);
    assert!(patient.body.contains("late_things 1"), "{}", patient.body);
    server.stop();
}

/// Answers after 300 ms.
struct Busy;

impl Collector for Busy {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        std::thread::sleep(Duration::from_millis(300));
        let mut busy = MetricFamily::new("busy_things", "Busy.", MetricType::Gauge, &[])?;
        busy.add(&[], SeriesValue::Gauge(1.0))?;
        Ok(vec![busy])
    }
}

#[test]
fn concurrent_scrapes_each_get_a_collector_that_is_only_busy() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register_collector(Arc::new(Busy));
    let scrapes: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(5);
                let format = [promlink::Format::Text, promlink::Format::OpenMetrics][i % 2];
                let scrape = promlink::Scrape::new(format).deadline(deadline);
                let done = if i < 2 {
                    registry.encode_scrape(&scrape, &mut out)
                } else {
                    registry.encode(format, &mut out)
                };
                (done.is_ok(), String::from_utf8(out).unwrap())
            })
        })
        .collect();
    for scrape in scrapes {
        let (ok, text) = scrape.join().unwrap();
        assert!(ok && text.contains("busy_things 1"), "{text}");
    }
}

fn broken_reading() -> f64 {
    panic!("the sensor is gone: secret internal detail")
}

#[test]
fn a_panicking_callback_gauge_costs_only_its_family() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let broken = Arc::new(Metric::new(
        "sensor_celsius",
        "A sensor.",
        promlink::CallbackGauge::new(broken_reading),
    ));
    registry.register(broken).unwrap();
    let temperature = Arc::new(Metric::new("temperature", "Temperature.", Gauge::new()));
    registry.register(temperature.clone()).unwrap();
    temperature.set(21.5);
    let server = serve(registry, false);
    let addr = server.local_addr();
    let first = scrape(addr, "text/plain;version=0.0.4");
    assert_eq!(first.status, 200);
    assert_eq!(sample(&first.body, "temperature"), Some(21.5));
    assert!(!first.body.contains("sensor_celsius"), "{}", first.body);
    assert!(!first.body.contains("secret"), "{}", first.body);
    promtool_accepts(first.body.as_bytes());
    // Counted while encoding, so shown from the next scrape on.
    let second = scrape(addr, OPENMETRICS);
    assert_eq!(second.status, 200);
    assert_eq!(
        sample(
            &second.body,
            r#"promlink_metric_failures_total{metric="sensor_celsius",reason="panic"}"#
        ),
        Some(1.0),
        "{}",
        second.body
    );
    let families = python_families("openmetrics", &second.body);
    assert!(families.contains_key("temperature"), "{families:?}");
    assert!(!families.contains_key("sensor_celsius"), "{families:?}");
    server.stop();
}
