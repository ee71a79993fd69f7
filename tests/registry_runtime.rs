//! Separate registries, metrics registered at run time and collectors: conflicts are
//! refused with both sites, failing collectors are reported while every other family is
//! still written.

use std::sync::Arc;

use promlink::{
    Collect, CollectError, Collector, Counter, Family, Format, Gauge, Metric, MetricFamily,
    MetricType, Registry, SeriesValue,
};

struct Fixed(Vec<MetricFamily>);

impl Collector for Fixed {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        Ok(self.0.clone())
    }
}

struct Failing;

impl Collector for Failing {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        Err("the database is down".into())
    }
}

struct Panicking;

impl Collector for Panicking {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        panic!("collector bug")
    }
}

fn gauge_family(name: &str, value: f64) -> MetricFamily {
    let mut family = MetricFamily::new(name, "Collected.", MetricType::Gauge, &[]).unwrap();
    family.add(&[], SeriesValue::Gauge(value)).unwrap();
    family
}

#[test]
fn collectors_merge_in_name_order() {
    let registry = Registry::new();
    let b = Arc::new(Metric::new("b_total", "B.", Counter::new()));
    registry.register(b.clone()).unwrap();
    registry.register_collector(Arc::new(Fixed(vec![
        gauge_family("c", 3.0),
        gauge_family("a", 1.0),
    ])));
    b.inc();
    let text = registry.encode_to_string(Format::Text);
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .collect();
    assert_eq!(order, ["a gauge", "b_total counter", "c gauge"], "{text}");
    assert_eq!(registry.get_sample_value("c", &[]), Some(3.0));
}

#[test]
fn failing_and_panicking_collectors_are_reported_and_the_rest_is_written() {
    let registry = Registry::new();
    let up = Arc::new(Metric::new("up_gauge", "Up.", Gauge::new()));
    registry.register(up.clone()).unwrap();
    up.set(1.0);
    registry.register_collector(Arc::new(Failing));
    registry.register_collector(Arc::new(Panicking));
    registry.register_collector(Arc::new(Fixed(vec![
        gauge_family("up_gauge", 2.0),
        gauge_family("dup", 1.0),
        gauge_family("dup", 2.0),
    ])));
    let mut out = Vec::new();
    let error = registry
        .encode(Format::OpenMetrics, &mut out)
        .expect_err("four problems");
    let problems = error.problems().join("\n");
    assert!(problems.contains("the database is down"), "{problems}");
    assert!(problems.contains("collector bug"), "{problems}");
    assert!(problems.contains("`up_gauge`"), "{problems}");
    assert!(problems.contains("`dup`"), "{problems}");
    let text = String::from_utf8(out).unwrap();
    // The collectors' own failures are counted, by collector and reason, the families
    // that clash on the collector that produced them, from the scrape that found them.
    let failures = "# HELP promlink_collector_failures Collector failures in scrapes, by collector and reason: error, panic, timeout, or conflict (a family whose name another family has).\n\
        # TYPE promlink_collector_failures counter\n\
        promlink_collector_failures_total{collector=\"registry_runtime::Failing\",reason=\"error\"} 1.0\n\
        promlink_collector_failures_total{collector=\"registry_runtime::Fixed\",reason=\"conflict\"} 2.0\n\
        promlink_collector_failures_total{collector=\"registry_runtime::Panicking\",reason=\"panic\"} 1.0\n";
    assert_eq!(text, format!("# HELP dup Collected.\n# TYPE dup gauge\ndup 1.0\n{failures}# HELP up_gauge Up.\n# TYPE up_gauge gauge\nup_gauge 1.0\n# EOF\n"));
}

#[test]
fn runtime_conflicts_are_refused_and_unregister_frees_the_name() {
    let registry = Registry::new();
    let first: Arc<dyn Collect> = Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new()));
    registry.register(first.clone()).unwrap();
    let error = registry
        .register(Arc::new(Metric::new("jobs_created", "Jobs.", Gauge::new())))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("sample `jobs_created` is also a sample of `jobs`"),
        "{error}"
    );
    let error = registry
        .register(Arc::new(
            Metric::new("jobs_total", "Jobs.", Counter::new()).with_const_labels(&[("queue", "a")]),
        ))
        .unwrap_err();
    assert!(
        error.to_string().contains("constant and variable labels"),
        "{error}"
    );
    let refused = |metric: Arc<dyn Collect>| registry.register(metric).unwrap_err().to_string();
    let help = refused(Arc::new(Metric::new(
        "jobs_total",
        "Other jobs.",
        Counter::new(),
    )));
    assert!(
        help.contains(r#"with help "Jobs." and with help "Other jobs.""#),
        "{help}"
    );
    let labels = refused(Arc::new(Metric::new(
        "jobs_total",
        "Jobs.",
        Family::new(["queue"], Counter::new()),
    )));
    assert!(labels.contains("constant and variable labels"), "{labels}");
    registry
        .register(Arc::new(
            Metric::new("wait_seconds", "Waiting.", Gauge::new()).with_unit("seconds"),
        ))
        .unwrap();
    let unit = refused(Arc::new(
        Metric::new("wait_seconds", "Waiting.", Gauge::new()).with_const_labels(&[("queue", "b")]),
    ));
    assert!(unit.contains("with unit"), "{unit}");
    let error = registry
        .register(Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new())))
        .unwrap_err();
    assert!(error.to_string().contains("the same series"), "{error}");
    assert!(
        error.to_string().contains(file!()),
        "both sites are named: {error}"
    );

    assert!(registry.unregister(&first));
    registry
        .register(Arc::new(Metric::new("jobs_created", "Jobs.", Gauge::new())))
        .unwrap();
}

#[test]
fn a_constant_label_may_not_repeat_a_variable_one() {
    let registry = Registry::new();
    let metric = Metric::new(
        "calls_total",
        "Calls.",
        Family::new(["function"], Counter::new()),
    )
    .with_const_labels(&[("function", "f")]);
    let error = registry.register(Arc::new(metric)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a constant label is also a variable label"),
        "{error}"
    );
}

#[test]
fn info_pairs_never_repeat_the_metrics_own_labels() {
    let registry = Registry::new();
    let build = Arc::new(
        Metric::new(
            "build_info",
            "Build.",
            Family::new(
                ["version"],
                promlink::Info::new(&[("version", "1"), ("commit", "abc")]),
            ),
        )
        .with_const_labels(&[("commit", "const")]),
    );
    registry.register(build.clone()).unwrap();
    let _child = build.labels(["2"]);
    let text = registry.encode_to_string(Format::Text);
    assert!(
        text.contains("build_info{commit=\"const\",version=\"2\"} 1.0\n"),
        "{text}"
    );
}

#[test]
fn a_family_name_that_is_anothers_sample_is_refused() {
    let registry = Registry::new();
    registry
        .register(Arc::new(Metric::new("a_total", "A.", Counter::new())))
        .unwrap();
    let error = registry
        .register(Arc::new(Metric::new(
            "a_created_total",
            "A.",
            Counter::new(),
        )))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`a_created` is also a sample of `a`"),
        "{error}"
    );
    registry.register_collector(Arc::new(Fixed(vec![gauge_family("a", 1.0)])));
    let problems = registry
        .encode(Format::OpenMetrics, &mut Vec::new())
        .unwrap_err();
    assert!(
        problems
            .to_string()
            .contains("whose sample `a` another family writes too"),
        "{problems}"
    );
}

#[test]
fn dense_children_keep_their_own_buckets() {
    let registry = Registry::new();
    let family = Arc::new(Metric::new(
        "lat_seconds",
        "Latency.",
        promlink::DenseFamily::<promlink::Histogram<1>, (bool,), 2>::new(
            &["ok"],
            [
                promlink::Histogram::new(&[1.0]),
                promlink::Histogram::new(&[10.0]),
            ],
        ),
    ));
    registry.register(family.clone()).unwrap();
    family.labels((true,)).observe(5.0);
    assert_eq!(
        registry.get_sample_value("lat_seconds_bucket", &[("ok", "true"), ("le", "10.0")]),
        Some(1.0)
    );
    assert_eq!(
        registry.get_sample_value("lat_seconds_bucket", &[("ok", "false"), ("le", "1.0")]),
        Some(0.0)
    );
}

#[test]
fn openmetrics_leaves_out_sums_it_cannot_express() {
    let registry = Registry::new();
    let delta = Arc::new(Metric::new("delta", "Delta.", promlink::Summary::new()));
    registry.register(delta.clone()).unwrap();
    delta.observe(-1.0);
    let om = registry.encode_to_string(Format::OpenMetrics);
    assert!(
        !om.contains("delta_sum") && !om.contains("delta_count"),
        "{om}"
    );
    let text = registry.encode_to_string(Format::Text);
    assert!(
        text.contains("delta_sum -1.0\n") && text.contains("delta_count 1.0\n"),
        "{text}"
    );
}

#[test]
fn sample_values_of_histograms_with_negative_buckets() {
    // OpenMetrics leaves out `_sum` and `_count` here; Python's helper still reads them.
    let registry = Registry::new();
    let drift = Arc::new(Metric::new(
        "clock_drift_seconds",
        "Clock drift.",
        promlink::Histogram::new(&[-0.1, 0.0, 0.1]),
    ));
    registry.register(drift.clone()).unwrap();
    drift.observe(-0.5);
    drift.observe(0.05);
    let sample = |name| registry.get_sample_value(name, &[]);
    assert_eq!(sample("clock_drift_seconds_count"), Some(2.0));
    assert_eq!(sample("clock_drift_seconds_sum"), Some(-0.45));
    assert_eq!(
        registry.get_sample_value("clock_drift_seconds_bucket", &[("le", "-0.1")]),
        Some(1.0)
    );
}
