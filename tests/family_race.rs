//! Two threads remove and re-create the same few label sets of a family while a third
//! scrapes it, in both formats, for up to 20,000 scrapes or three seconds: no scrape lists
//! a series twice, which both formats forbid.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlink::{Counter, Family, Format, Metric, Registry};

/// Sets its flag when dropped, panics included, so that threads waiting on it end and a
/// failed assertion fails the test instead of hanging it.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The label sets the threads remove and re-create.
const CHURNED: [&str; 4] = ["a", "b", "c", "d"];

/// Label sets left alone: they make a scrape take long enough for a removal and a
/// re-creation to land in the middle of it.
const STEADY: usize = 64;

/// The first series that `text` lists twice, if any: a sample line is its series (name
/// and labels) before the last space, then the value.
fn listed_twice(text: &str) -> Option<&str> {
    let mut seen = HashSet::new();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.rsplit_once(' ').map_or(line, |(series, _)| series))
        .find(|series| !seen.insert(*series))
}

#[test]
fn a_scrape_never_lists_a_label_set_twice() {
    let registry = Registry::new();
    let family = Arc::new(Metric::new(
        "churn_total",
        "Churn.",
        Family::new(["set"], Counter::new()),
    ));
    registry.register(family.clone()).unwrap();
    for steady in 0..STEADY {
        family.labels([format!("steady{steady}")]).inc();
    }
    let stop = AtomicBool::new(false);
    let churns = AtomicU64::new(0);
    let mut scrapes = 0_u32;
    let mut seen_churned = false;
    std::thread::scope(|s| {
        let _stop = SetOnDrop(&stop);
        for thread in 0..2 {
            let (family, stop, churns) = (&family, &stop, &churns);
            s.spawn(move || {
                // Each thread starts at its own set, so that they also meet on one.
                for set in CHURNED.iter().cycle().skip(thread) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    family.remove([*set]);
                    family.labels([*set]).inc();
                    churns.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut out = Vec::new();
        while scrapes < 20_000 && Instant::now() < deadline {
            for format in [Format::Text, Format::OpenMetrics] {
                out.clear();
                registry.encode(format, &mut out).unwrap();
                let text = std::str::from_utf8(&out).unwrap();
                if let Some(series) = listed_twice(text) {
                    panic!("scrape {scrapes} ({format:?}) lists {series} twice:\n{text}");
                }
                seen_churned |= text.contains("set=\"a\"");
                scrapes += 1;
            }
        }
    });
    assert!(scrapes > 0, "the scrapes ran");
    assert!(seen_churned, "a churned label set was scraped");
    assert!(churns.load(Ordering::Relaxed) > 0, "the label sets churned");
}

#[test]
fn the_duplicate_finder_finds_duplicates() {
    let text = "# TYPE x counter\nx_total{set=\"a\"} 1\nx_created{set=\"a\"} 2\n";
    assert_eq!(listed_twice(text), None);
    let twice = "x_total{set=\"a\"} 1\nx_total{set=\"b\"} 1\nx_total{set=\"a\"} 0\n";
    assert_eq!(listed_twice(twice), Some("x_total{set=\"a\"}"));
}
