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
    assert_eq!(text, "# HELP dup Collected.\n# TYPE dup gauge\ndup 1.0\n# HELP up_gauge Up.\n# TYPE up_gauge gauge\nup_gauge 1.0\n# EOF\n");
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
