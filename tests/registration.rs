//! Link-time registration: metrics from a library this binary only links
//! (`use linked_lib as _;`), from that library's private module and function body, and
//! from this test binary itself all reach the global registry, each exactly once.

use linked_lib as _;
use promlink::{register, Counter, Format, Gauge, Metric, Registry};

static IN_TEST_BINARY_TOTAL: Metric<Counter> = Metric::new(
    "in_test_binary_total",
    "A counter of the test binary.",
    Counter::new(),
);
register!(IN_TEST_BINARY_TOTAL);

#[allow(dead_code)] // never called, on purpose
fn unused_function() {
    static IN_TEST_FUNCTION: Metric<Gauge> = Metric::new(
        "in_test_function",
        "A gauge inside an uncalled function.",
        Gauge::new(),
    );
    register!(IN_TEST_FUNCTION);
}

const EXPECTED: [(&str, &str); 5] = [
    ("linked_lib_root_total", "counter"),
    ("linked_lib_private", "gauge"),
    ("linked_lib_in_function_total", "counter"),
    ("in_test_binary_total", "counter"),
    ("in_test_function", "gauge"),
];

#[test]
fn every_static_is_registered_exactly_once() {
    let registry = Registry::global();
    registry.check().expect("no conflicts");
    let text = registry.encode_to_string(Format::Text);
    for (name, kind) in EXPECTED {
        let type_line = format!("# TYPE {name} {kind}\n");
        assert_eq!(
            text.matches(&type_line).count(),
            1,
            "{name} must appear once in:\n{text}"
        );
    }
    // The unlabelled ones export one sample each, at 0 from the first scrape.
    for name in [
        "linked_lib_root_total",
        "linked_lib_in_function_total",
        "in_test_binary_total",
        "in_test_function",
    ] {
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with(&format!("{name} ")))
                .count(),
            1,
            "{name}:\n{text}"
        );
        assert_eq!(registry.get_sample_value(name, &[]), Some(0.0), "{name}");
    }
}

#[test]
fn only_this_binarys_metrics_and_its_dependencies() {
    let text = Registry::global().encode_to_string(Format::Text);
    // promlink's own process collector joins every registry built with the default
    // features; everything else is this binary's or linked_lib's.
    let families = text
        .lines()
        .filter(|l| l.starts_with("# TYPE ") && !l.starts_with("# TYPE process_"))
        .count();
    assert_eq!(families, EXPECTED.len(), "{text}");
    #[cfg(target_os = "linux")]
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter\n"),
        "{text}"
    );
}

#[test]
fn families_come_out_sorted_by_name() {
    let text = Registry::global().encode_to_string(Format::OpenMetrics);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}
