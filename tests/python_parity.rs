//! Parity with Python's `prometheus_client` 0.26, the reference client.
//!
//! This test builds, with promlink and in a registry of its own, the scenario of
//! `/work/shared/reference/python_client_scenario.py` (a labelled counter, a gauge with an
//! escaped HELP, a histogram, a summary, an info, an enum and special float values), plus
//! the cases that script leaves out (units, labelled histograms, summaries, infos and
//! enums, untouched metrics, huge counts, quotes and tabs in HELP, escapes in label
//! values). It encodes the registry in the text format 0.0.4 and in OpenMetrics 1.0 and
//! hands both to `tests/python/parity.py`, which builds the same scenario with
//! `prometheus_client`, reads all four expositions back with `prometheus_client`'s own
//! parsers and requires the same families: names, types, HELP, units, and samples (name,
//! labels as a set, value bit for bit with NaN equal to NaN).
//!
//! What it proves: that a scrape of promlink and a scrape of the reference client, for
//! the same instrumentation, mean the same thing to a parser; and that both of promlink's
//! expositions are accepted by those parsers. What it deliberately does not compare:
//! byte-level spelling (label order, `1795627490.77` against `1.79562749077e+09`), family
//! order, and `_created` values (wall-clock times; only their presence is compared in
//! OpenMetrics). In 0.0.4 Python adds a `*_created` gauge family per counter, histogram
//! and summary, which promlink leaves out as Go's client does: `parity.py` ignores
//! `_created` in 0.0.4.
//!
//! Needs `python3` with `prometheus_client==0.26.0`, and fails (rather than skipping)
//! without them.

use std::fmt::Write as _;
use std::sync::Arc;

mod support {
    pub mod python;
}

use promlink::{
    CollectError, Collector, Counter, DenseFamily, EncodeMetric, Family, Format, Gauge, Histogram,
    Info, Metric, MetricFamily, MetricType, NativeBuckets, Registry, SeriesValue, StateSet,
    Summary,
};
use support::python::{run_python, scratch_dir};

/// Registers `metric` in `registry` and returns a handle to update it.
fn register<M: EncodeMetric + 'static>(registry: &Registry, metric: Metric<M>) -> Arc<Metric<M>> {
    let metric = Arc::new(metric);
    if let Err(e) = registry.register(metric.clone()) {
        panic!("registering {}: {e}", metric.descriptor().name());
    }
    metric
}

/// `python_client_scenario.py`, statement for statement (its Python is quoted above each
/// block).
fn reference_scenario(r: &Registry) {
    // c = Counter('http_requests_total', 'Total HTTP requests.', ['method', 'code'])
    let requests = register(
        r,
        Metric::new(
            "http_requests_total",
            "Total HTTP requests.",
            Family::new(["method", "code"], Counter::new()),
        ),
    );
    // c.labels(method='get', code='200').inc(); c.labels('post', '500').inc(2.5)
    requests.labels(("get", "200")).inc();
    requests.labels(("post", "500")).inc_by(2.5);

    // g = Gauge('temperature_celsius', 'Current temperature.\nSecond line with \\ backslash.')
    // g.set(1)
    let temperature = register(
        r,
        Metric::new(
            "temperature_celsius",
            "Current temperature.\nSecond line with \\ backslash.",
            Gauge::new(),
        ),
    );
    temperature.set(1.0);

    // h = Histogram('request_latency_seconds', 'Request latency.', buckets=[...])
    // for v in (0.003, 0.07, 0.3, 0.3, 4.0, 7.0): h.observe(v)
    let latency = register(
        r,
        Metric::new(
            "request_latency_seconds",
            "Request latency.",
            Histogram::new(&[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        ),
    );
    for v in [0.003, 0.07, 0.3, 0.3, 4.0, 7.0] {
        latency.observe(v);
    }

    // s = Summary('payload_bytes', 'Payload size.'); s.observe(100); s.observe(250.5)
    let payload = register(
        r,
        Metric::new("payload_bytes", "Payload size.", Summary::new()),
    );
    payload.observe(100.0);
    payload.observe(250.5);

    // i = Info('build', 'Build information.')
    // i.info({'version': '1.2.3', 'revision': 'abc"def\\x\ny'})
    let build = register(
        r,
        Metric::new("build_info", "Build information.", Info::new(&[])),
    );
    build
        .set(&[("version", "1.2.3"), ("revision", "abc\"def\\x\ny")])
        .expect("valid info labels");

    // e = Enum('task_state', 'Task state.', states=['starting', 'running', 'stopped'])
    // e.state('running')
    let task = register(
        r,
        Metric::new(
            "task_state",
            "Task state.",
            StateSet::new(&["starting", "running", "stopped"]),
        ),
    );
    task.set_state("running");

    // g2 = Gauge('weird_values', 'Special floats.', ['kind']); g2.labels('pinf').set(...)...
    let weird = register(
        r,
        Metric::new(
            "weird_values",
            "Special floats.",
            Family::new(["kind"], Gauge::new()),
        ),
    );
    for (kind, value) in [
        ("pinf", f64::INFINITY),
        ("ninf", f64::NEG_INFINITY),
        ("nan", f64::NAN),
        ("big", 1e21),
        ("small", 1.5e-7),
        ("int", 42.0),
        ("neg0", -0.0),
        ("tenth", 0.1),
        ("third", 1.0 / 3.0),
        ("e16", 1e16),
        // Python's `set(123456789012345678)` converts the int to the nearest float.
        ("e15", 123_456_789_012_345_680.0),
    ] {
        weird.labels([kind]).set(value);
    }
}

/// The cases the reference script leaves out; `extended_scenario` in `parity.py` is the
/// same in Python.
fn extended_scenario(r: &Registry) {
    // A unit on a counter, and a total beyond 2^53: Python adds floats (2^60 + 1 rounds to
    // 2^60), promlink keeps exact integers; both must read back as the same float.
    let sent = register(
        r,
        Metric::new("sent_bytes_total", "Bytes \"sent\".", Counter::new()).with_unit("bytes"),
    );
    sent.inc_by(2_f64.powi(60));
    sent.inc();

    // Metrics created and never touched.
    register(
        r,
        Metric::new("idle_total", "Never incremented.", Counter::new()),
    );
    register(r, Metric::new("empty_info", "Nothing set.", Info::new(&[])));

    // Labelled info and enum (the enum with a child left in its first state).
    let deploy = register(
        r,
        Metric::new(
            "deploy_info",
            "Deploy.",
            Family::new(["region"], Info::new(&[])),
        ),
    );
    deploy
        .labels(["eu"])
        .set(&[("version", "x")])
        .expect("valid info labels");
    let worker = register(
        r,
        Metric::new(
            "worker_state",
            "Worker state.",
            Family::new(["worker"], StateSet::new(&["idle", "busy"])),
        ),
    );
    worker.labels(["w1"]).set_state("busy");
    let _ = worker.labels(["w2"]);

    // A labelled histogram with a unit and bounds in every spelling of `le` (exponent
    // forms, `123456.0`), one child empty.
    let size = register(
        r,
        Metric::new(
            "response_size_bytes",
            "Response size.",
            Family::new(["route"], Histogram::new(&[1e-5, 0.001, 123_456.0, 1.5e6])),
        )
        .with_unit("bytes"),
    );
    for v in [50.0, 1.5e6, 2e6] {
        size.labels(["/a"]).observe(v);
    }
    let _ = size.labels(["/b"]);

    // A labelled summary with a unit, one child empty.
    let rpc = register(
        r,
        Metric::new(
            "rpc_seconds",
            "RPC time.",
            Family::new(["service"], Summary::new()),
        )
        .with_unit("seconds"),
    );
    let _ = rpc.labels(["x"]);
    rpc.labels(["y"]).observe(1e-9);
    rpc.labels(["y"]).observe(0.25);

    // Quotes and a tab in HELP (escaped differently by the two formats), escapes and
    // non-ASCII text in label values, an empty label value.
    let escaped = register(
        r,
        Metric::new(
            "escaped_labels",
            "Help with \"quotes\", a tab\tand ünïcödé.",
            Family::new(["value"], Gauge::new()),
        ),
    );
    escaped.labels(["tab\there"]).set(1.0);
    escaped.labels(["quote\"backslash\\newline\n"]).set(2.0);
    escaped.labels(["ünïcödé ✓"]).set(3.0);
    escaped.labels([""]).set(4.0);
}

fn encode(registry: &Registry, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    registry
        .encode(format, &mut out)
        .expect("a registry without collectors encodes without errors");
    out
}

#[test]
fn promlink_matches_python_client() {
    let registry = Registry::new();
    reference_scenario(&registry);
    extended_scenario(&registry);

    let dir = scratch_dir("python_parity");
    let text = dir.join("promlink.prom");
    let openmetrics = dir.join("promlink.openmetrics");
    for (path, format) in [(&text, Format::Text), (&openmetrics, Format::OpenMetrics)] {
        std::fs::write(path, encode(&registry, format))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    // On failure the expositions stay in `dir` for a look.
    let report =
        run_python("parity.py", &[&text, &openmetrics]).unwrap_or_else(|report| panic!("{report}"));
    eprint!("{}", report.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

/// Families a collector makes at scrape time, of every type it can give.
struct Collected;

impl Collector for Collected {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        let mut queue = MetricFamily::new("queue_jobs", "Jobs.", MetricType::Counter, &["queue"])?;
        queue.add(&["mail"], SeriesValue::Counter(7.0))?;
        let mut mystery = MetricFamily::new("mystery", "Unknown.", MetricType::Unknown, &[])?;
        mystery.add(&[], SeriesValue::Unknown(-3.5))?;
        let mut waits = MetricFamily::new("waits_seconds", "Waits.", MetricType::Histogram, &[])?;
        let buckets = vec![(0.5, 1), (1.0, 3), (f64::INFINITY, 4)];
        waits.add(&[], SeriesValue::Histogram { buckets, sum: 4.5 })?;
        let mut batch = MetricFamily::new("batch", "Batch.", MetricType::Summary, &[])?;
        batch.add(&[], SeriesValue::Summary { count: 2, sum: 0.5 })?;
        let mut host = MetricFamily::new("host", "Host.", MetricType::Info, &["dc"])?;
        host.add(
            &["eu"],
            SeriesValue::Info(vec![("kernel".into(), "6.1".into())]),
        )?;
        Ok(vec![queue, mystery, waits, batch, host])
    }
}

/// What only protobuf's encoder treats apart: constant labels (written as `LabelPair`s
/// beside the variable ones), dense families (their labels rendered once per format),
/// collectors, and a family with no series (left out).
fn protobuf_scenario(r: &Registry) {
    let tagged = register(
        r,
        Metric::new(
            "tagged_total",
            "Tagged.",
            Family::new(["path"], Counter::new()),
        )
        .with_const_labels(&[("service", "orders"), ("zone", "a\"b")]),
    );
    tagged.labels(["/x"]).inc_by(2.0);
    // Exemplars: on a counter, on a finite bucket and on `+Inf` (which protobuf then
    // writes as a bucket of its own), with escapes and the most characters allowed. No
    // `"` in their values: prometheus_client 0.26 reads an escaped `\"` in an exemplar's
    // labels as the end of the value (its sample labels it reads right).
    tagged
        .labels(["/x"])
        .inc_by_with_exemplar(
            0.5,
            &[("trace_id", "4bf92f3577b34da6"), ("note", "a\\b\nc")],
        )
        .unwrap();
    let traced = register(
        r,
        Metric::new(
            "traced_seconds",
            "Traced.",
            Family::new(["op"], Histogram::new(&[0.1, 1.0])),
        ),
    );
    let longest = "x".repeat(promlink::MAX_EXEMPLAR_LABEL_CHARS - "span_id".len());
    traced
        .labels(["read"])
        .observe_with_exemplar(0.05, &[("span_id", &longest)])
        .unwrap();
    traced
        .labels(["read"])
        .observe_with_exemplar(7.5, &[("trace_id", "ffff")])
        .unwrap();
    traced.labels(["read"]).observe(0.5);
    let flags = register(
        r,
        Metric::new(
            "flags",
            "Flags.",
            DenseFamily::<Gauge, (bool,), 2>::new(&["on"], [const { Gauge::new() }; 2]),
        ),
    );
    flags.labels((true,)).set(1.5);
    register(
        r,
        Metric::new(
            "unused_total",
            "Never touched.",
            Family::new(["x"], Counter::new()),
        ),
    );
    r.register_collector(Arc::new(Collected));
}

/// Native histograms with known observations, as `(family, value)`: one beside classic
/// buckets (with an exemplar), one whose values spread too far for its bucket limit, so
/// that its resolution is halved, and one never observed, with no zero bucket.
fn native_scenario(r: &Registry) -> Vec<(&'static str, f64)> {
    let dual = register(
        r,
        Metric::new(
            "dual_seconds",
            "Classic and native.",
            Histogram::new(&[0.1, 1.0]).with_native(NativeBuckets::factor(1.1)),
        ),
    );
    let reduced = register(
        r,
        Metric::new(
            "reduced_bytes",
            "Halved.",
            Histogram::native(NativeBuckets::schema(8).max_buckets(6)),
        ),
    );
    register(
        r,
        Metric::new(
            "untouched_seconds",
            "Nothing observed.",
            Histogram::native(NativeBuckets::schema(0).zero_threshold(0.0)),
        ),
    );
    let quantiles = register(
        r,
        Metric::new(
            "lookup_seconds",
            "Quantiles.",
            Family::new(["method"], Summary::new().with_quantiles(&[0.5, 0.9, 0.99])),
        ),
    );
    for i in 0..100 {
        quantiles.labels(["get"]).observe(f64::from(i) / 100.0);
    }
    // A series whose window is empty: NaN quantiles.
    let _ = quantiles.labels(["idle"]);
    let mut observed = Vec::new();
    // Powers of two sit on bounds at every schema: they test upper-inclusive buckets.
    for value in [0.003, 0.25, 0.5, 0.7, 1.0, 1.3, 2.0, 45.0, -0.2, -3.0, 0.0] {
        dual.observe(value);
        observed.push(("dual_seconds", value));
    }
    dual.observe_with_exemplar(0.05, &[("trace_id", "abc")])
        .unwrap();
    observed.push(("dual_seconds", 0.05));
    let mut x = 0x2545_f491_u32;
    for _ in 0..500 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // From 1e-3 to 1e3: far more buckets at schema 8 than six.
        let value = 10f64.powf(f64::from(x % 60_000) / 10_000.0 - 3.0);
        reduced.observe(value);
        observed.push(("reduced_bytes", value));
    }
    observed
}

#[test]
fn protobuf_says_what_openmetrics_says() {
    let registry = Registry::new();
    reference_scenario(&registry);
    extended_scenario(&registry);
    protobuf_scenario(&registry);
    let observed = native_scenario(&registry);

    let dir = scratch_dir("protobuf_parity");
    let protobuf = dir.join("promlink.pb");
    let openmetrics = dir.join("promlink.openmetrics");
    let observations = dir.join("native.observations");
    let mut lines = String::new();
    for (family, value) in &observed {
        writeln!(lines, "{family} {value:?}").unwrap();
    }
    std::fs::write(&observations, lines).expect("writing the observations");
    // Both from one moment: no metric changes between the two encodings.
    for (path, format) in [
        (&protobuf, Format::Protobuf),
        (&openmetrics, Format::OpenMetrics),
    ] {
        std::fs::write(path, encode(&registry, format))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let decoded = run_python(
        "protobuf_samples.py",
        &[&protobuf, &openmetrics, &observations],
    )
    .unwrap_or_else(|report| panic!("{report}"));
    let families: Vec<&str> = decoded.stdout.lines().collect();
    assert!(families.contains(&"exemplars 4"), "{families:#?}");
    for expected in [
        "http_requests_total COUNTER 2 -",
        "tagged_total COUNTER 1 -",
        "flags GAUGE 2 -",
        "queue_jobs_total COUNTER 1 -",
        "mystery UNTYPED 1 -",
        "waits_seconds HISTOGRAM 1 -",
        "batch SUMMARY 1 -",
        "host_info GAUGE 1 -",
        "response_size_bytes HISTOGRAM 2 bytes",
        "dual_seconds HISTOGRAM 1 -",
        "lookup_seconds SUMMARY 2 -",
        // Nine positive values in buckets of their own at schema 3, two negative, a zero.
        "native dual_seconds schema 3 zero 1 positive 9 negative 2",
        "native untouched_seconds schema 0 zero 0 positive 0 negative 0",
    ] {
        assert!(
            families.contains(&expected),
            "{expected} not in {families:#?}"
        );
    }
    let reduced = families
        .iter()
        .find(|f| f.starts_with("native reduced_bytes "))
        .unwrap_or_else(|| panic!("no native reduced_bytes in {families:#?}"));
    let words: Vec<&str> = reduced.split(' ').collect();
    let schema: i8 = words[3].parse().unwrap();
    let populated: usize = words[7].parse().unwrap();
    assert!(schema < 8 && populated <= 6, "{reduced}");
    assert!(
        !families.iter().any(|f| f.starts_with("unused_total ")),
        "a family without series is left out: {families:#?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
