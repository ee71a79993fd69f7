//! Collectors: metrics produced at scrape time, as owned, validated [`MetricFamily`]s.

use core::fmt;

use crate::descriptor::{is_label_name, is_metric_name, MetricType};
use crate::encoding::{
    begin_family, end_family, render_label_pairs, write_float, Bucket, Format, Header,
    SeriesContext, SeriesEncoder, Value,
};

/// Produces metric families when the registry is scraped (Python's custom collectors).
///
/// ```
/// use promlink_core::{Collector, CollectError, MetricFamily, SeriesValue};
///
/// struct QueueDepths;
///
/// impl Collector for QueueDepths {
///     fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
///         let mut depth = MetricFamily::new("queue_depth", "Jobs waiting.", promlink_core::MetricType::Gauge, &["queue"])?;
///         depth.add(&["emails"], SeriesValue::Gauge(3.0))?;
///         Ok(vec![depth])
///     }
/// }
/// ```
pub trait Collector: Send + Sync {
    /// The families as they are now.
    ///
    /// # Errors
    ///
    /// Any error; the registry reports it and still writes every other family.
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError>;

    /// What the registry calls it when it fails: the `collector` label of
    /// `promlink_collector_failures_total` and the subject of the line on stderr. The
    /// type's path by default.
    fn name(&self) -> &str {
        core::any::type_name::<Self>()
    }
}

/// The error a [`Collector`] returns.
pub type CollectError = Box<dyn std::error::Error + Send + Sync>;

/// A family built at run time and validated as it is built, so that nothing a collector
/// does can make the registry write an invalid exposition.
#[derive(Debug, Clone)]
pub struct MetricFamily {
    name: String,
    help: String,
    kind: MetricType,
    unit: Option<String>,
    label_names: Vec<String>,
    series: Vec<(Vec<String>, SeriesValue)>,
}

/// The value of one series of a [`MetricFamily`]; its variant must match the family type.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValue {
    /// A counter total (not negative, not NaN).
    Counter(f64),
    /// A gauge value.
    Gauge(f64),
    /// A histogram: `(upper bound, cumulative count)` pairs ending with `+Inf`, and the sum.
    Histogram {
        /// Cumulative buckets in increasing bound order, the last bound `+Inf`.
        buckets: Vec<(f64, u64)>,
        /// The sum of all observations.
        sum: f64,
    },
    /// A summary's count and sum.
    Summary {
        /// The number of observations.
        count: u64,
        /// Their sum.
        sum: f64,
    },
    /// An info's pairs.
    Info(Vec<(String, String)>),
    /// A value of unknown type.
    Unknown(f64),
}

impl SeriesValue {
    fn kind(&self) -> MetricType {
        match self {
            SeriesValue::Counter(_) => MetricType::Counter,
            SeriesValue::Gauge(_) => MetricType::Gauge,
            SeriesValue::Histogram { .. } => MetricType::Histogram,
            SeriesValue::Summary { .. } => MetricType::Summary,
            SeriesValue::Info(_) => MetricType::Info,
            SeriesValue::Unknown(_) => MetricType::Unknown,
        }
    }
}

/// Why a [`MetricFamily`] refused a name or a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFamily(String);

impl fmt::Display for InvalidFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidFamily {}

fn invalid<T>(message: impl Into<String>) -> Result<T, InvalidFamily> {
    Err(InvalidFamily(message.into()))
}

impl MetricFamily {
    /// An empty family. As for statics, a counter's `_total` and an info's `_info` suffix
    /// is dropped from the family name.
    ///
    /// # Errors
    ///
    /// On an invalid metric or label name, a repeated label, a reserved label (`le` on
    /// histograms, `quantile` on summaries), or a state set (not supported here).
    pub fn new(
        name: &str,
        help: &str,
        kind: MetricType,
        label_names: &[&str],
    ) -> Result<Self, InvalidFamily> {
        if !is_metric_name(name) {
            return invalid(format!("invalid metric name {name:?}"));
        }
        let name = kind
            .family_suffix()
            .and_then(|s| name.strip_suffix(s))
            .unwrap_or(name);
        if name.is_empty() {
            return invalid("empty metric name");
        }
        if kind == MetricType::StateSet {
            return invalid("state sets are not supported in collected families");
        }
        for (i, label) in label_names.iter().enumerate() {
            if !is_label_name(label) || Some(*label) == kind.reserved_label() {
                return invalid(format!(
                    "invalid or reserved label name {label:?} in {name}"
                ));
            }
            if label_names[..i].contains(label) {
                return invalid(format!("label name {label:?} repeated in {name}"));
            }
        }
        Ok(MetricFamily {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            unit: None,
            label_names: label_names.iter().map(|&l| l.to_owned()).collect(),
            series: Vec::new(),
        })
    }

    /// Declares the unit, which the name must end with (`_` + unit).
    ///
    /// # Errors
    ///
    /// When the unit is not a suffix of the name, or the family is an info.
    pub fn with_unit(mut self, unit: &str) -> Result<Self, InvalidFamily> {
        if matches!(self.kind, MetricType::Info | MetricType::StateSet) {
            return invalid(format!("{} is an info, which has no unit", self.name));
        }
        let ok = is_label_name(unit)
            && self
                .name
                .strip_suffix(unit)
                .is_some_and(|head| head.len() > 1 && head.ends_with('_'));
        if !ok {
            return invalid(format!("{} does not end with `_{unit}`", self.name));
        }
        self.unit = Some(unit.to_owned());
        Ok(self)
    }

    /// The family name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The family type.
    pub fn kind(&self) -> MetricType {
        self.kind
    }

    /// Adds one series.
    ///
    /// # Errors
    ///
    /// When the value's type is not the family's, the number of label values is wrong, the
    /// label set is already present, or the value is invalid for its type (a negative or
    /// NaN counter; histogram buckets not increasing, not cumulative or not ending in
    /// `+Inf`; info label names invalid or clashing).
    pub fn add(
        &mut self,
        label_values: &[&str],
        value: SeriesValue,
    ) -> Result<&mut Self, InvalidFamily> {
        if value.kind() != self.kind {
            return invalid(format!(
                "{} is a {}, not a {}",
                self.name,
                self.kind,
                value.kind()
            ));
        }
        if label_values.len() != self.label_names.len() {
            return invalid(format!(
                "{} has {} labels, got {} values",
                self.name,
                self.label_names.len(),
                label_values.len()
            ));
        }
        if self
            .series
            .iter()
            .any(|(values, _)| values.iter().eq(label_values))
        {
            return invalid(format!(
                "{} already has the label values {label_values:?}",
                self.name
            ));
        }
        self.check_value(&value)?;
        self.series
            .push((label_values.iter().map(|&v| v.to_owned()).collect(), value));
        Ok(self)
    }

    fn check_value(&self, value: &SeriesValue) -> Result<(), InvalidFamily> {
        match value {
            SeriesValue::Counter(v) if v.is_nan() || *v < 0.0 => {
                invalid(format!("counter {} cannot be {v}", self.name))
            }
            SeriesValue::Histogram { buckets, .. } => {
                let ends_in_inf = buckets.last().is_some_and(|(le, _)| *le == f64::INFINITY);
                let increasing = buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
                if !ends_in_inf || !increasing || buckets.iter().any(|(le, _)| le.is_nan()) {
                    return invalid(format!("histogram {} needs increasing bounds ending in +Inf with cumulative counts", self.name));
                }
                Ok(())
            }
            SeriesValue::Info(pairs) => {
                for (i, (name, _)) in pairs.iter().enumerate() {
                    if !is_label_name(name)
                        || self.label_names.contains(name)
                        || pairs[..i].iter().any(|(n, _)| n == name)
                    {
                        return invalid(format!(
                            "info {} has an invalid or repeated label {name:?}",
                            self.name
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Writes the family.
    pub(crate) fn encode(&self, out: &mut Vec<u8>, format: Format) {
        let header = Header {
            name: &self.name,
            help: &self.help,
            kind: self.kind,
            unit: self.unit.as_deref(),
        };
        let family = begin_family(out, format, &header);
        let label_names: Vec<&str> = self.label_names.iter().map(String::as_str).collect();
        let context = SeriesContext {
            name: &self.name,
            const_labels: b"",
            label_names: &label_names,
            created: 0.0,
            created_series: true,
        };
        let mut enc = SeriesEncoder::new(out, format, context);
        let mut labels = Vec::new();
        for (values, value) in &self.series {
            labels.clear();
            render_label_pairs(
                &mut labels,
                format,
                self.label_names
                    .iter()
                    .map(String::as_str)
                    .zip(values.iter().map(String::as_str)),
            );
            encode_value(&mut enc, &labels, value);
        }
        end_family(out, family);
    }
}

fn encode_value(enc: &mut SeriesEncoder<'_>, labels: &[u8], value: &SeriesValue) {
    match value {
        SeriesValue::Counter(v) => enc.counter(labels, Value::Float(*v), None, None),
        SeriesValue::Gauge(v) => enc.gauge(labels, Value::Float(*v)),
        SeriesValue::Unknown(v) => enc.untyped(labels, Value::Float(*v)),
        SeriesValue::Histogram { buckets, sum } => {
            // Validated to end with `+Inf`, whose count is the histogram's.
            let count = buckets.last().map_or(0, |(_, count)| *count);
            let le: Vec<Vec<u8>> = buckets
                .iter()
                .map(|(bound, _)| {
                    let mut le = Vec::new();
                    write_float(&mut le, *bound);
                    le
                })
                .collect();
            let buckets = buckets
                .iter()
                .zip(&le)
                .map(|(&(bound, cumulative), le)| Bucket {
                    bound,
                    le,
                    cumulative,
                    exemplar: None,
                });
            enc.histogram(labels, buckets, (count, *sum), None, None);
        }
        SeriesValue::Summary { count, sum } => enc.summary(labels, (*count, *sum), &[], None),
        SeriesValue::Info(pairs) => {
            let mut all = labels.to_vec();
            render_label_pairs(
                &mut all,
                enc.format(),
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            );
            enc.info(&all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let mut c = MetricFamily::new("x_total", "", MetricType::Counter, &["a"]).unwrap();
        assert_eq!(c.name(), "x");
        assert!(c.add(&["1"], SeriesValue::Counter(-1.0)).is_err());
        assert!(c.add(&["1"], SeriesValue::Gauge(1.0)).is_err());
        assert!(c.add(&[], SeriesValue::Counter(1.0)).is_err());
        assert!(c.add(&["1"], SeriesValue::Counter(1.0)).is_ok());
        assert!(
            c.add(&["1"], SeriesValue::Counter(2.0)).is_err(),
            "repeated label set"
        );
        let mut h = MetricFamily::new("h", "", MetricType::Histogram, &[]).unwrap();
        assert!(h
            .add(
                &[],
                SeriesValue::Histogram {
                    buckets: vec![(1.0, 2)],
                    sum: 1.0
                }
            )
            .is_err());
        assert!(h
            .add(
                &[],
                SeriesValue::Histogram {
                    buckets: vec![(1.0, 2), (f64::INFINITY, 1)],
                    sum: 1.0
                }
            )
            .is_err());
        assert!(h
            .add(
                &[],
                SeriesValue::Histogram {
                    buckets: vec![(1.0, 1), (f64::INFINITY, 2)],
                    sum: 1.0
                }
            )
            .is_ok());
        assert!(MetricFamily::new("h", "", MetricType::Histogram, &["le"]).is_err());
        assert!(MetricFamily::new("1h", "", MetricType::Gauge, &[]).is_err());
    }
}
