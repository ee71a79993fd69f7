//! Two threads observe one histogram while a third encodes it 10,000 times: every
//! snapshot is consistent. Count, the `+Inf` bucket and the bucket counts agree, and the
//! sum belongs to exactly the observations counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use promlink::{Format, Histogram, Metric, Registry};

/// Sets its flag when dropped, panics included, so that threads waiting on it end and a
/// failed assertion fails the test instead of hanging it.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Thread A observes 0.5 (bucket `le="1.0"`), thread B observes 4.0 (bucket `le="+Inf"`),
/// so every sample's sum must be `0.5 * a + 4.0 * b`, exactly, for the `a` and `b` the
/// buckets report.
#[test]
fn every_snapshot_is_consistent() {
    let registry = Registry::new();
    let histogram = Arc::new(Metric::new(
        "stress_seconds",
        "Stress.",
        Histogram::new(&[0.1, 1.0, 2.0]),
    ));
    registry.register(histogram.clone()).unwrap();
    let stop = AtomicBool::new(false);
    let mut last_count = 0.0;
    std::thread::scope(|s| {
        let _stop = SetOnDrop(&stop);
        for value in [0.5, 4.0] {
            let (histogram, stop) = (&histogram, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        histogram.observe(value);
                    }
                }
            });
        }
        let mut out = Vec::new();
        for round in 0..10_000 {
            out.clear();
            registry.encode(Format::Text, &mut out).unwrap();
            let text = std::str::from_utf8(&out).unwrap();
            let value = |prefix: &str| -> f64 {
                let line = text
                    .lines()
                    .find(|l| l.starts_with(prefix))
                    .unwrap_or_else(|| panic!("{prefix} in {text}"));
                line.rsplit(' ').next().unwrap().parse().unwrap()
            };
            let le_01 = value("stress_seconds_bucket{le=\"0.1\"}");
            let le_1 = value("stress_seconds_bucket{le=\"1.0\"}");
            let le_2 = value("stress_seconds_bucket{le=\"2.0\"}");
            let le_inf = value("stress_seconds_bucket{le=\"+Inf\"}");
            let count = value("stress_seconds_count");
            let sum = value("stress_seconds_sum");
            assert_eq!(le_01, 0.0, "round {round}");
            assert_eq!(le_1, le_2, "round {round}: nothing lands between 1 and 2");
            assert_eq!(le_inf, count, "round {round}: +Inf bucket and count");
            let (a, b) = (le_1, le_inf - le_1);
            assert_eq!(
                sum,
                0.5 * a + 4.0 * b,
                "round {round}: the sum of {a} x 0.5 and {b} x 4.0"
            );
            assert!(count >= last_count, "round {round}: counts never go back");
            last_count = count;
        }
    });
    assert!(last_count > 0.0, "the observers ran");
}
