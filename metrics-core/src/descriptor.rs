//! What a metric is, independent of its values: name, help, type, unit, labels and the
//! place in the source that defined it.
//!
//! Everything here is `const`, so that a mistake in a `static` metric (an invalid name, a
//! unit the name does not end with, a reserved label) fails the build instead of a scrape.

use core::fmt;
use core::panic::Location;

/// The type of a metric family, as the exposition formats name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A monotonically increasing total (`_total`, `_created`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// Observations counted and summed (`_sum`, `_count`), without quantiles.
    Summary,
    /// Constant key-value pairs exposed as the labels of a series worth 1 (`_info`).
    Info,
    /// A set of named boolean states (Python's `Enum` is a state set with one state on).
    StateSet,
    /// A family whose type the collector did not know.
    Unknown,
}

impl MetricType {
    /// The name of the type in the Prometheus text format 0.0.4.
    ///
    /// The text format has no `info` or `stateset`: both are exposed as gauges, as the
    /// Python client does.
    ///
    /// ```
    /// use promlink_core::MetricType;
    /// assert_eq!(MetricType::StateSet.text_name(), "gauge");
    /// ```
    pub const fn text_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge | MetricType::Info | MetricType::StateSet => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Unknown => "untyped",
        }
    }

    /// The name of the type in OpenMetrics 1.0.0.
    ///
    /// ```
    /// use promlink_core::MetricType;
    /// assert_eq!(MetricType::Unknown.openmetrics_name(), "unknown");
    /// ```
    pub const fn openmetrics_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The suffix a user may write on the name that the family name drops
    /// (`requests_total` declares the counter family `requests`).
    ///
    /// ```
    /// assert_eq!(promlink_core::MetricType::Counter.family_suffix(), Some("_total"));
    /// ```
    pub const fn family_suffix(self) -> Option<&'static str> {
        match self {
            MetricType::Counter => Some("_total"),
            MetricType::Info => Some("_info"),
            _ => None,
        }
    }

    /// The suffixes of this type's sample names, `""` for the family name itself: two
    /// families whose names so extended meet cannot share an exposition (a gauge `x_count`
    /// beside a summary `x`, a counter `a_created` beside a counter `a`).
    pub(crate) const fn sample_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["", "_total", "_created"],
            MetricType::Histogram => &["", "_bucket", "_count", "_sum", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Info => &["", "_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }

    /// The label name this type reserves for itself.
    pub(crate) const fn reserved_label(self) -> Option<&'static str> {
        match self {
            MetricType::Histogram => Some("le"),
            MetricType::Summary => Some("quantile"),
            _ => None,
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openmetrics_name())
    }
}

/// Where a metric was defined: the file, line and column of its constructor and the
/// module that registered it. Registry conflicts name both sites.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// The constructor's location (`#[track_caller]` in `const` context).
    pub location: &'static Location<'static>,
    /// `module_path!()` where the metric was registered, or `""` when registered at run time
    /// without one.
    pub module: &'static str,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.location)?;
        if !self.module.is_empty() {
            write!(f, " (module {})", self.module)?;
        }
        Ok(())
    }
}

/// The static description of a metric family: everything but its values.
///
/// Built by [`Metric::new`](crate::Metric::new); all checks run at compile time for a
/// `static`, and panic at run time otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    unit: Option<&'static str>,
    const_labels: &'static [(&'static str, &'static str)],
    location: &'static Location<'static>,
}

impl Descriptor {
    /// Describes a family. `name` may carry the suffix its type implies (`_total` for a
    /// counter, `_info` for an info): the family name drops it, as in Python's client.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or is empty once
    /// the suffix is dropped. In a `static` this is a compile error.
    ///
    /// ```
    /// use promlink_core::{Descriptor, MetricType};
    /// const D: Descriptor = Descriptor::new("http_requests_total", "Requests.", MetricType::Counter);
    /// assert_eq!(D.name(), "http_requests");
    /// ```
    #[track_caller]
    pub const fn new(name: &'static str, help: &'static str, kind: MetricType) -> Self {
        assert!(
            is_metric_name(name),
            "invalid metric name: it must match [a-zA-Z_:][a-zA-Z0-9_:]*"
        );
        let name = match kind.family_suffix() {
            Some(suffix) => strip_suffix(name, suffix),
            None => name,
        };
        assert!(
            !name.is_empty(),
            "invalid metric name: nothing is left once the type's suffix is dropped"
        );
        if matches!(kind, MetricType::StateSet) {
            assert!(is_label_name(name), "a state set's name is also its label name: it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
        }
        Descriptor {
            name,
            help,
            kind,
            unit: None,
            const_labels: &[],
            location: Location::caller(),
        }
    }

    /// Declares the unit (OpenMetrics `# UNIT`). The family name must end with `_` + unit.
    ///
    /// # Panics
    ///
    /// If the unit is not a valid name part or the family name does not end with it.
    ///
    /// ```
    /// use promlink_core::{Descriptor, MetricType};
    /// const D: Descriptor =
    ///     Descriptor::new("latency_seconds", "Latency.", MetricType::Histogram).with_unit("seconds");
    /// assert_eq!(D.unit(), Some("seconds"));
    /// ```
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        assert!(
            !matches!(self.kind, MetricType::Info | MetricType::StateSet),
            "info and state set metrics have no unit (OpenMetrics forbids it)"
        );
        assert!(
            !unit.is_empty() && is_label_name(unit),
            "invalid unit: it must match [a-zA-Z_][a-zA-Z0-9_]*"
        );
        let stripped = strip_suffix(self.name, unit);
        assert!(
            stripped.len() < self.name.len()
                && stripped.len() > 1
                && ends_with_underscore(stripped),
            "the metric name must end with `_` followed by its unit"
        );
        self.unit = Some(unit);
        self
    }

    /// Adds labels whose values are fixed for this definition. Several definitions may
    /// share one family name when they agree on type, help and label names and differ in
    /// these values (every instrumented function feeding one family, for instance).
    ///
    /// # Panics
    ///
    /// If a label name is invalid, reserved (`__` prefix, `le` on a histogram, `quantile` on
    /// a summary) or repeated.
    ///
    /// ```
    /// use promlink_core::{Descriptor, MetricType};
    /// const D: Descriptor = Descriptor::new("calls_total", "Calls.", MetricType::Counter)
    ///     .with_const_labels(&[("function", "main")]);
    /// assert_eq!(D.const_labels()[0].1, "main");
    /// ```
    #[must_use]
    pub const fn with_const_labels(
        mut self,
        labels: &'static [(&'static str, &'static str)],
    ) -> Self {
        let mut i = 0;
        while i < labels.len() {
            assert_label_name_allowed(labels[i].0, self.kind);
            let mut j = 0;
            while j < i {
                assert!(
                    !str_eq(labels[i].0, labels[j].0),
                    "a label name is repeated"
                );
                j += 1;
            }
            i += 1;
        }
        self.const_labels = labels;
        self
    }

    /// The family name: what OpenMetrics writes in `# TYPE`, without `_total` or `_info`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The help text, unescaped.
    pub const fn help(&self) -> &'static str {
        self.help
    }

    /// The metric type.
    pub const fn kind(&self) -> MetricType {
        self.kind
    }

    /// The unit, when declared.
    pub const fn unit(&self) -> Option<&'static str> {
        self.unit
    }

    /// Labels with fixed values, in declaration order.
    pub const fn const_labels(&self) -> &'static [(&'static str, &'static str)] {
        self.const_labels
    }

    /// Where the descriptor was built.
    pub const fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// Panics (at compile time in `const` context) unless every name may be a label of a
/// metric of type `kind` and none is repeated.
#[track_caller]
pub(crate) const fn assert_label_names(names: &[&str], kind: MetricType) {
    let mut i = 0;
    while i < names.len() {
        assert_label_name_allowed(names[i], kind);
        let mut j = 0;
        while j < i {
            assert!(!str_eq(names[i], names[j]), "a label name is repeated");
            j += 1;
        }
        i += 1;
    }
}

/// Panics (at compile time in `const` context) unless `name` may be a label of a metric
/// of type `kind`.
#[track_caller]
pub(crate) const fn assert_label_name_allowed(name: &str, kind: MetricType) {
    assert!(
        is_label_name(name),
        "invalid label name: it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
    );
    if let Some(reserved) = kind.reserved_label() {
        assert!(
            !str_eq(name, reserved),
            "`le` is reserved on histograms and `quantile` on summaries"
        );
    }
}

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
///
/// ```
/// assert!(promlink_core::is_metric_name("http:requests_total"));
/// assert!(!promlink_core::is_metric_name("2xx"));
/// ```
pub const fn is_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || c == b':') {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with the reserved `__`.
///
/// ```
/// assert!(promlink_core::is_label_name("method"));
/// assert!(!promlink_core::is_label_name("__name__"));
/// ```
pub const fn is_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b[0].is_ascii_digit() || (b.len() >= 2 && b[0] == b'_' && b[1] == b'_') {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `name` without `suffix`, or `name` unchanged when it does not end with it.
const fn strip_suffix(name: &'static str, suffix: &str) -> &'static str {
    let (n, s) = (name.as_bytes(), suffix.as_bytes());
    if n.len() < s.len() {
        return name;
    }
    let start = n.len() - s.len();
    let mut i = 0;
    while i < s.len() {
        if n[start + i] != s[i] {
            return name;
        }
        i += 1;
    }
    let (head, _) = n.split_at(start);
    match core::str::from_utf8(head) {
        Ok(head) => head,
        Err(_) => name,
    }
}

const fn ends_with_underscore(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && b[b.len() - 1] == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_names_drop_total() {
        assert_eq!(
            Descriptor::new("a_total", "", MetricType::Counter).name(),
            "a"
        );
        assert_eq!(Descriptor::new("a", "", MetricType::Counter).name(), "a");
        assert_eq!(
            Descriptor::new("a_total", "", MetricType::Gauge).name(),
            "a_total"
        );
    }

    #[test]
    #[should_panic(expected = "invalid metric name")]
    fn rejects_bad_names() {
        let _ = Descriptor::new("bad-name", "", MetricType::Gauge);
    }

    #[test]
    #[should_panic(expected = "must end with `_` followed by its unit")]
    fn unit_must_be_suffix() {
        let _ = Descriptor::new("latency_ms", "", MetricType::Gauge).with_unit("seconds");
    }

    #[test]
    fn unit_suffix_of_counter_family() {
        let d = Descriptor::new("busy_seconds_total", "", MetricType::Counter).with_unit("seconds");
        assert_eq!(d.unit(), Some("seconds"));
    }

    #[test]
    #[should_panic(expected = "reserved")]
    fn le_is_reserved_on_histograms() {
        let _ = Descriptor::new("h", "", MetricType::Histogram).with_const_labels(&[("le", "1")]);
    }
}
