//! A runaway label: 1,000,000 distinct values into a family with the default limit. The
//! process's memory stays bounded, the overflow series counts what was refused, promlink's
//! own metric counts the refused lookups, stderr says it once, and the exposition stays
//! valid for promtool and Python's parser.

use std::sync::Arc;

use promlink::{
    Counter, Family, Format, Metric, Registry, DEFAULT_MAX_SERIES, MAX_LABEL_VALUE_BYTES,
    OVERFLOW_VALUE,
};

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod python;
    pub mod tools;
}

use support::python::{run_python, scratch_dir};
use support::tools::{in_child, promtool_accepts, resident_bytes, run_alone};

const FLOOD: usize = 1_000_000;

#[test]
fn a_million_values_cost_the_limit_and_one_series() {
    let registry = Registry::new();
    let sessions = Arc::new(Metric::new(
        "sessions_total",
        "Sessions, by user.",
        Family::new(["user", "kind"], Counter::new()),
    ));
    registry.register(sessions.clone()).unwrap();
    let before = resident_bytes();
    for i in 0..FLOOD {
        sessions.labels((format!("user-{i}"), "login")).inc();
    }
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("{FLOOD} label sets grew the process by {grown} bytes");
    assert_eq!(sessions.len(), DEFAULT_MAX_SERIES);
    // The first ten thousand are themselves; the rest are in the overflow series.
    assert_eq!(sessions.labels(("user-7", "login")).get(), 1.0);
    let refused = f64::from(u32::try_from(FLOOD - DEFAULT_MAX_SERIES).unwrap());
    let overflow = [("user", OVERFLOW_VALUE), ("kind", OVERFLOW_VALUE)];
    assert_eq!(
        registry.get_sample_value("sessions_total", &overflow),
        Some(refused)
    );
    // (the lookup of `user-7` above found its child: nothing more was refused)
    assert_eq!(
        registry.get_sample_value("promlink_series_refused_total", &[("metric", "sessions")]),
        Some(refused)
    );
    assert!(
        grown < 32 << 20,
        "{FLOOD} label sets grew the process by {grown} bytes"
    );

    // A value longer than the limit is refused the same way, even below the count.
    let short = Family::new(["path"], Counter::new());
    short.labels(["x".repeat(MAX_LABEL_VALUE_BYTES + 1)]).inc();
    short.labels(["x".repeat(MAX_LABEL_VALUE_BYTES)]).inc();
    assert_eq!(short.len(), 1);

    let text = registry.encode_to_string(Format::Text);
    promtool_accepts(text.as_bytes());
    let openmetrics = registry.encode_to_string(Format::OpenMetrics);
    let dir = scratch_dir("cardinality");
    let path = dir.join("exposition");
    std::fs::write(&path, &openmetrics).unwrap();
    let families = run_python("families.py", &[std::path::Path::new("openmetrics"), &path])
        .unwrap_or_else(|report| panic!("{report}"))
        .stdout;
    std::fs::remove_dir_all(&dir).ok();
    // Each series a `_total` and a `_created` sample.
    let samples = (DEFAULT_MAX_SERIES + 1) * 2;
    assert!(
        families.contains(&format!("sessions counter {samples}\n")),
        "{families}"
    );
}

/// Run by `stderr_says_it_once_per_family`, alone in a child.
#[test]
fn child_floods_two_families() {
    if !in_child() {
        return;
    }
    let registry = Registry::new();
    for name in ["first_total", "second_total"] {
        let family = Arc::new(Metric::new(
            name,
            "Flooded.",
            Family::new(["id"], Counter::new()).with_max_series(3),
        ));
        registry.register(family.clone()).unwrap();
        for i in 0..10 {
            family.labels([i]).inc();
        }
    }
    for _ in 0..3 {
        let _ = registry.encode_to_string(Format::Text);
    }
}

#[test]
fn stderr_says_it_once_per_family() {
    let child = run_alone("child_floods_two_families", &[], &[]);
    let stderr = String::from_utf8_lossy(&child.stderr);
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("reached its limit"))
        .collect();
    assert_eq!(said.len(), 2, "{stderr}");
    assert!(
        said[0].contains("`first`") && said[1].contains("`second`"),
        "{stderr}"
    );
}

promlink::declare_metrics! {
    /// Downloads by file, at most three files.
    #[metric(max_series = 3)]
    counter DOWNLOADS_TOTAL { file: &str, ok: bool };
}

#[test]
fn a_declared_limit_holds() {
    for file in ["a", "b", "c", "d", "e"] {
        DOWNLOADS_TOTAL.labels(file, true).inc();
    }
    assert_eq!(DOWNLOADS_TOTAL.len(), 3);
    let overflow = [("file", OVERFLOW_VALUE), ("ok", OVERFLOW_VALUE)];
    assert_eq!(
        Registry::global().get_sample_value("downloads_total", &overflow),
        Some(2.0)
    );
}
