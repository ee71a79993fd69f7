//! Two link-time definitions that cannot share a name: the registry keeps the first,
//! leaves out the second, reports both sites, and serves everything else.

use promlink::{register, Counter, Format, Gauge, Metric, Registry};

static JOBS: Metric<Counter> = Metric::new("jobs_total", "Jobs run.", Counter::new());
register!(JOBS);

mod elsewhere {
    use promlink::{register, Gauge, Metric};

    pub static JOBS_AGAIN: Metric<Gauge> = Metric::new("jobs", "Jobs run.", Gauge::new());
    register!(JOBS_AGAIN);
}

/// Agreeing definitions of one family with different constant labels are fine.
static CALLS_A: Metric<Counter> =
    Metric::new("calls_total", "Calls.", Counter::new()).with_const_labels(&[("function", "a")]);
static CALLS_B: Metric<Counter> =
    Metric::new("calls_total", "Calls.", Counter::new()).with_const_labels(&[("function", "b")]);
register!(CALLS_A, CALLS_B);

/// The same series twice is not.
static TWICE_1: Metric<Gauge> = Metric::new("twice", "Defined twice.", Gauge::new());
static TWICE_2: Metric<Gauge> = Metric::new("twice", "Defined twice.", Gauge::new());
register!(TWICE_1, TWICE_2);

#[test]
fn conflicting_definitions_name_both_sites() {
    let errors = Registry::global().check().expect_err("three conflicts");
    assert_eq!(errors.len(), 3, "{errors:?}");
    let jobs = errors
        .iter()
        .find(|e| e.name() == "jobs")
        .expect("the jobs conflict")
        .to_string();
    let file = file!();
    assert!(jobs.contains("as a counter and as a gauge"), "{jobs}");
    assert!(
        jobs.contains(&format!("{file}:6:")),
        "first site in: {jobs}"
    );
    assert!(
        jobs.contains(&format!("{file}:12:")),
        "second site in: {jobs}"
    );
    assert!(
        jobs.contains("module registry_conflict::elsewhere"),
        "{jobs}"
    );
    let twice = errors
        .iter()
        .find(|e| e.name() == "twice")
        .expect("the duplicate series")
        .to_string();
    assert!(twice.contains("the same series"), "{twice}");
    let count = errors
        .iter()
        .find(|e| e.name() == "latency_count")
        .expect("the sample clash")
        .to_string();
    assert!(
        count.contains("sample `latency_count` is also a sample of `latency`"),
        "{count}"
    );
}

#[test]
fn the_exposition_stays_valid() {
    JOBS.inc();
    elsewhere::JOBS_AGAIN.set(5.0);
    CALLS_A.inc();
    let mut out = Vec::new();
    let reported = Registry::global()
        .encode(Format::Text, &mut out)
        .expect_err("every scrape reports the conflicts");
    assert_eq!(reported.problems().len(), 3, "{reported}");
    assert!(
        reported.to_string().contains("is defined twice"),
        "{reported}"
    );
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.matches("# TYPE jobs_total counter").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("# TYPE jobs gauge"), "{text}");
    assert_eq!(
        text.matches("# TYPE calls_total counter").count(),
        1,
        "one family for both: {text}"
    );
    assert!(text.contains("calls_total{function=\"a\"} 1.0\n"), "{text}");
    assert!(text.contains("calls_total{function=\"b\"} 0.0\n"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("twice ")).count(),
        1,
        "{text}"
    );
}

/// A gauge named like a summary's sample would write a second `latency_count`.
static LATENCY: promlink::Metric<promlink::Summary> =
    promlink::Metric::new("latency", "Latency.", promlink::Summary::new());
static LATENCY_COUNT: Metric<Gauge> =
    Metric::new("latency_count", "Not a summary's count.", Gauge::new());
register!(LATENCY, LATENCY_COUNT);

#[test]
fn the_server_serves_the_rest_and_strict_mode_refuses_to_start() {
    use std::io::{Read, Write};

    let strict = promlink::ServerOptions {
        strict: true,
        ..promlink::ServerOptions::default()
    };
    let Err(refused) = promlink::start_http_server_with("127.0.0.1:0", strict) else {
        panic!("conflicts stop a strict server at start");
    };
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    let message = refused.to_string();
    assert!(
        message.contains("metric `jobs` is defined twice"),
        "{message}"
    );

    let server = promlink::start_http_server("127.0.0.1:0").expect("a lenient server starts");
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("# TYPE jobs_total counter"), "{answer}");
    // Operators see what was left out, by name; clients see no sites.
    assert!(
        answer.contains("promlink_definition_conflicts{metric=\"jobs\"} 1"),
        "{answer}"
    );
    assert!(
        answer.contains("promlink_definition_conflicts{metric=\"twice\"} 1"),
        "{answer}"
    );
    assert!(!answer.contains(".rs:"), "{answer}");
    server.stop();
}
