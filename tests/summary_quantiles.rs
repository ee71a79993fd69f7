//! Summary quantiles against the exact quantiles of known distributions, the sliding
//! window against an injected clock, and the exposition of quantiles read back by
//! promtool and by Python's parsers.
//!
//! The error bound is the one `Summary` documents: the value reported for quantile `q`
//! of `n` observations is within `QUANTILE_RELATIVE_ERROR` (1.083%) of the `⌈q·n⌉`-th
//! smallest observation, while the window populates at most 512 buckets.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use promlink::{Family, Format, Metric, Registry, Summary, QUANTILE_RELATIVE_ERROR};

#[allow(dead_code)] // each test uses what it needs
mod support {
    pub mod python;
    pub mod tools;
}

const QUANTILES: [f64; 7] = [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0];

/// A xorshift stream of uniform values in (0, 1).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        #[allow(clippy::cast_precision_loss)] // 53 bits
        let u = (x >> 11) as f64 / (1_u64 << 53) as f64;
        u.max(f64::MIN_POSITIVE)
    }
}

/// Observes `values` and checks every quantile against the exact one.
fn assert_within_bound(name: &str, values: &[f64]) {
    let summary = Summary::new().with_quantiles(&QUANTILES);
    for &v in values {
        summary.observe(v);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    for (q, reported) in summary.quantiles() {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        let exact = sorted[rank - 1];
        let error = (reported - exact).abs();
        assert!(
            error <= exact.abs() * QUANTILE_RELATIVE_ERROR * (1.0 + 1e-12),
            "{name}: quantile {q} is {reported}, exactly {exact} (relative error {})",
            error / exact.abs()
        );
    }
    let (count, sum) = summary.get();
    assert_eq!(count, n as u64, "{name}");
    let exact_sum: f64 = values.iter().sum();
    assert!(
        (sum - exact_sum).abs() <= exact_sum.abs() * 1e-9,
        "{name}: sum {sum}"
    );
}

#[test]
fn quantiles_of_known_distributions_are_within_the_stated_error() {
    let mut u = uniform(0x9e37_79b9_7f4a_7c15);
    let uniform_values: Vec<f64> = (0..20_000).map(|_| 0.001 + u() * 2.0).collect();
    assert_within_bound("uniform", &uniform_values);

    let mut u = uniform(0x2545_f491_4f6c_dd1d);
    let exponential: Vec<f64> = (0..20_000).map(|_| -u().ln() * 0.1).collect();
    assert_within_bound("exponential", &exponential);

    // 99% of latencies between 10 and 20 ms, 1% of outliers a thousand times slower: the
    // outliers take the top quantiles, and leave the others as exact as without them.
    let mut u = uniform(0xdead_beef_cafe_f00d);
    let with_outliers: Vec<f64> = (0..20_000)
        .map(|i| {
            let v = 0.01 + u() * 0.01;
            if i % 100 == 0 {
                v * 1000.0
            } else {
                v
            }
        })
        .collect();
    assert_within_bound("outliers", &with_outliers);

    // Negative values and zeros are ordered below the positive ones.
    let mut u = uniform(7);
    let signed: Vec<f64> = (0..5_000)
        .map(|i| {
            if i % 10 == 0 {
                0.0
            } else {
                (u() - 0.5) * 100.0
            }
        })
        .collect();
    let summary = Summary::new().with_quantiles(&[0.5]);
    for &v in &signed {
        summary.observe(v);
    }
    let mut sorted = signed.clone();
    sorted.sort_by(f64::total_cmp);
    let (_, median) = summary.quantiles()[0];
    let exact = sorted[2499];
    assert!(
        (median - exact).abs() <= exact.abs() * QUANTILE_RELATIVE_ERROR * (1.0 + 1e-12),
        "median {median}, exactly {exact}"
    );
}

static NOW: AtomicU64 = AtomicU64::new(1_000_000);

fn now() -> f64 {
    #[allow(clippy::cast_precision_loss)] // seconds
    let now = NOW.load(Ordering::Relaxed) as f64;
    now
}

#[test]
fn the_window_slides_with_the_clock_and_the_count_stays() {
    // A minute in six buckets of ten seconds.
    static WINDOWED: Summary = Summary::new()
        .with_quantiles(&[0.5, 1.0])
        .max_age(Duration::from_mins(1))
        .age_buckets(6)
        .with_clock(now);
    let start = NOW.load(Ordering::Relaxed);
    let at = |seconds: u64| NOW.store(start + seconds, Ordering::Relaxed);
    let median = || WINDOWED.quantiles()[0].1;
    let max = || WINDOWED.quantiles()[1].1;

    at(0);
    for _ in 0..10 {
        WINDOWED.observe(1.0);
    }
    at(25);
    for _ in 0..30 {
        WINDOWED.observe(100.0);
    }
    let close = |a: f64, b: f64| (a - b).abs() <= b * QUANTILE_RELATIVE_ERROR;
    assert!(
        close(median(), 100.0) && close(max(), 100.0),
        "{median} {max}",
        median = median(),
        max = max()
    );
    // Until 59 s the first values are in the window.
    at(59);
    assert!(close(median(), 100.0), "{}", median());
    // At 60 s the first age bucket (0 to 10 s) has left the window.
    at(60);
    WINDOWED.observe(5.0);
    let values = WINDOWED.quantiles();
    assert!(close(values[1].1, 100.0), "{values:?}");
    // At 85 s the 100s (observed at 25 s) have left too: only the 5 at 60 s remains.
    at(85);
    assert!(close(median(), 5.0), "{}", median());
    // Past the whole window: empty, NaN; the count and sum are over all time.
    at(200);
    assert!(median().is_nan() && max().is_nan());
    assert_eq!(WINDOWED.get(), (41, 10.0 + 3000.0 + 5.0));
}

/// A registry with a labelled summary with quantiles and a plain one.
fn summaries_registry() -> Registry {
    let registry = Registry::new();
    let latency = Arc::new(Metric::new(
        "rpc_duration_seconds",
        "RPC latency.",
        Family::new(["method"], Summary::new().with_quantiles(&[0.5, 0.9, 0.99])),
    ));
    registry.register(latency.clone()).unwrap();
    let empty = Arc::new(Metric::new(
        "idle_seconds",
        "Never observed.",
        Summary::new().with_quantiles(&[0.5]),
    ));
    registry.register(empty).unwrap();
    let mut u = uniform(11);
    for _ in 0..1000 {
        latency.labels(["get"]).observe(u() * 0.2);
        latency.labels(["put"]).observe(u());
    }
    registry
}

#[test]
fn quantile_expositions_pass_promtool_and_pythons_parsers() {
    let registry = summaries_registry();
    let text = registry.encode_to_string(Format::Text);
    assert!(
        text.contains("rpc_duration_seconds{method=\"get\",quantile=\"0.5\"} 0.09"),
        "{text}"
    );
    assert!(
        text.contains("idle_seconds{quantile=\"0.5\"} NaN"),
        "{text}"
    );
    support::tools::promtool_accepts(text.as_bytes());

    let dir = support::python::scratch_dir("summary_quantiles");
    // Two series of three quantiles, a count and a sum (and `_created` in OpenMetrics),
    // and the idle summary's NaN quantile, count and sum.
    for (format, name, samples) in [
        (
            Format::Text,
            "text",
            ["rpc_duration_seconds summary 10", "idle_seconds summary 3"],
        ),
        (
            Format::OpenMetrics,
            "openmetrics",
            ["rpc_duration_seconds summary 12", "idle_seconds summary 4"],
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, registry.encode_to_string(format)).unwrap();
        let read = support::python::run_python("families.py", &[Path::new(name), &path])
            .unwrap_or_else(|report| panic!("{report}"));
        for expected in samples {
            assert!(
                read.stdout.contains(expected),
                "{expected}: {}",
                read.stdout
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
