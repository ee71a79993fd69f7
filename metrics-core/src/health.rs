//! What went wrong in scrapes, for operators: promlink's own families (failures by
//! collector and by metric, definitions left out) in every exposition that needs them,
//! and one line on stderr per distinct failure per [`REPORT_INTERVAL`], never a
//! backtrace per scrape.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::collector::{MetricFamily, SeriesValue};
use crate::descriptor::MetricType;
use crate::registry::RegistrationError;

/// How often one distinct failure is written to stderr at most.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_mins(5);

/// What failed: a collector (by [`Collector::name`](crate::Collector::name)) or the
/// encoding of a registered metric (a panicking callback gauge).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Subject {
    Collector(String),
    Metric(String),
    /// A definition left out because it conflicts with another.
    Definition(String),
}

/// How it failed; the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Reason {
    /// Returned an error.
    Error,
    /// Panicked.
    Panic,
    /// Missed the scrape's deadline, or still ran from an earlier scrape.
    Timeout,
    /// Produced a family whose name another family has, or conflicts with a definition.
    Conflict,
}

impl Reason {
    fn label(self) -> &'static str {
        match self {
            Reason::Error => "error",
            Reason::Panic => "panic",
            Reason::Timeout => "timeout",
            Reason::Conflict => "conflict",
        }
    }
}

/// One failure of one scrape, with the text for the operator.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) subject: Subject,
    pub(crate) reason: Reason,
    pub(crate) detail: String,
}

impl Failure {
    /// The line for the operator (and [`GatherError`](crate::GatherError)).
    pub(crate) fn describe(&self) -> String {
        match &self.subject {
            Subject::Collector(name) => format!("collector `{name}`: {}", self.detail),
            Subject::Metric(name) => format!("metric `{name}`: {}", self.detail),
            Subject::Definition(_) => self.detail.clone(),
        }
    }
}

/// The failure counts of one registry, and when each was last reported.
#[derive(Default)]
pub(crate) struct Health {
    counts: Mutex<BTreeMap<(Subject, Reason), u64>>,
    reported: Mutex<HashMap<(Subject, Reason), Instant>>,
    /// The families that have been said on stderr to have reached their limit.
    limited: Mutex<HashSet<String>>,
}

impl Health {
    /// Counts `failures` and writes those not reported within the interval to stderr.
    /// Conflicts are not counted (they are a state, shown as a gauge), only reported.
    pub(crate) fn record(&self, failures: &[Failure]) {
        if failures.is_empty() {
            return;
        }
        let mut lines = Vec::new();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        for failure in failures {
            let key = (failure.subject.clone(), failure.reason);
            if !matches!(failure.subject, Subject::Definition(_)) {
                *counts.entry(key.clone()).or_default() += 1;
            }
            let due = reported
                .get(&key)
                .is_none_or(|last| now.duration_since(*last) >= REPORT_INTERVAL);
            if due {
                reported.insert(key, now);
                lines.push(format!(
                    "promlink: {} (reported at most once every {} minutes)",
                    failure.describe(),
                    REPORT_INTERVAL.as_secs() / 60
                ));
            }
        }
        // Written without the locks: a stderr that blocks must not hold up other scrapes.
        drop((counts, reported));
        for line in lines {
            eprintln!("{line}");
        }
    }

    /// Says on stderr, once per family, that a family in `refused` (name and lookups
    /// refused) reached its cardinality limit.
    pub(crate) fn warn_limited(&self, refused: &BTreeMap<&str, u64>) {
        let mut limited = self.limited.lock().unwrap_or_else(PoisonError::into_inner);
        let new: Vec<&str> = (refused.keys().copied())
            .filter(|name| limited.insert((*name).to_owned()))
            .collect();
        drop(limited);
        for name in new {
            eprintln!(
                "promlink: metric `{name}` reached its limit of label sets: new ones are \
                 counted in its series whose label values are \"{}\" (said once)",
                crate::OVERFLOW_VALUE
            );
        }
    }

    /// promlink's own families, those that have a series: failures by collector and by
    /// metric, the definitions left out by name, and the lookups refused by family.
    pub(crate) fn families(
        &self,
        conflicts: &[RegistrationError],
        refused: &BTreeMap<&str, u64>,
    ) -> Vec<MetricFamily> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let by = |wanted: fn(&Subject) -> Option<&String>| {
            counts.iter().filter_map(move |((subject, reason), n)| {
                Some((wanted(subject)?.as_str(), *reason, *n))
            })
        };
        let mut families = Vec::new();
        let mut failures = |name: &str, help: &str, label: &str, series: Vec<_>| {
            if series.is_empty() {
                return;
            }
            let family = MetricFamily::new(name, help, MetricType::Counter, &[label, "reason"]);
            if let Ok(mut family) = family {
                for (source, reason, n) in series {
                    let value = SeriesValue::Counter(count_as_float(n));
                    let _ = family.add(&[source, Reason::label(reason)], value);
                }
                families.push(family);
            }
        };
        failures(
            "promlink_collector_failures_total",
            "Collector failures in scrapes, by collector and reason: error, panic, timeout, or conflict (a family whose name another family has).",
            "collector",
            by(|s| match s {
                Subject::Collector(name) => Some(name),
                _ => None,
            })
            .collect(),
        );
        failures(
            "promlink_metric_failures_total",
            "Failures to encode a metric in scrapes (a panicking callback), by metric and reason.",
            "metric",
            by(|s| match s {
                Subject::Metric(name) => Some(name),
                _ => None,
            })
            .collect(),
        );
        if !refused.is_empty() {
            if let Ok(mut family) = MetricFamily::new(
                "promlink_series_refused_total",
                "Lookups of new label sets that a family's cardinality limit (or a label value's length) refused, by metric: they were counted in its overflow series.",
                MetricType::Counter,
                &["metric"],
            ) {
                for (name, n) in refused {
                    let _ = family.add(&[name], SeriesValue::Counter(count_as_float(*n)));
                }
                families.push(family);
            }
        }
        if !conflicts.is_empty() {
            let mut left_out: BTreeMap<&str, u64> = BTreeMap::new();
            for conflict in conflicts {
                *left_out.entry(conflict.name()).or_default() += 1;
            }
            if let Ok(mut family) = MetricFamily::new(
                "promlink_definition_conflicts",
                "Definitions left out of the registry because they conflict with another of the same name.",
                MetricType::Gauge,
                &["metric"],
            ) {
                for (name, n) in left_out {
                    let _ = family.add(&[name], SeriesValue::Gauge(count_as_float(n)));
                }
                families.push(family);
            }
        }
        families
    }
}

#[allow(clippy::cast_precision_loss)] // a count of scrapes stays far below 2^53
fn count_as_float(n: u64) -> f64 {
    n as f64
}
