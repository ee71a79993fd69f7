//! The traits that connect metric values to the encoders, and [`Metric`], a value with
//! its [`Descriptor`].

use core::ops::Deref;

use crate::descriptor::{Descriptor, MetricType};
use crate::encoding::SeriesEncoder;

/// One series' worth of a metric type: what a [`Family`](crate::Family) holds per label
/// set and what an unlabelled [`Metric`] holds once.
///
/// Sealed: implemented by promlink's metric types.
pub trait Series: crate::sealed::Sealed + Send + Sync + Sized + 'static {
    /// The type the exposition declares.
    const KIND: MetricType;

    /// Data computed once per family and scrape and shared by all its series (a
    /// histogram's rendered `le` values, say).
    type Shared;

    /// A fresh series configured like `self` (same buckets, same states).
    #[must_use]
    fn new_series(&self) -> Self;

    /// Computes the per-scrape shared data.
    fn shared(&self) -> Self::Shared;

    /// Writes this series' samples with the rendered label list `labels`.
    fn encode_series(
        &self,
        shared: &Self::Shared,
        enc: &mut SeriesEncoder<'_>,
        labels: &[u8],
        created: f64,
    );
}

/// A metric the registry can encode: a single [`Series`] or a [`Family`](crate::Family).
///
/// Sealed: implemented by promlink's metric types and families.
pub trait EncodeMetric: crate::sealed::Sealed + Send + Sync {
    /// The type the exposition declares.
    const KIND: MetricType;

    /// The names of the labels whose values vary (not the constant ones).
    fn label_names(&self) -> &[&'static str];

    /// Writes every series.
    fn encode_metric(&self, enc: &mut SeriesEncoder<'_>);

    /// How many lookups of new label sets were refused, past the cardinality limit.
    fn refused_series(&self) -> u64 {
        0
    }
}

impl<S: Series> EncodeMetric for S {
    const KIND: MetricType = S::KIND;

    fn label_names(&self) -> &[&'static str] {
        &[]
    }

    fn encode_metric(&self, enc: &mut SeriesEncoder<'_>) {
        let created = enc.created();
        self.encode_series(&self.shared(), enc, b"", created);
    }
}

/// Anything the registry can scrape: object-safe, so `&'static dyn Collect` can sit in the
/// link-time slice.
///
/// Sealed: implemented by [`Metric`]; produce families at run time with a
/// [`Collector`](crate::Collector) instead.
pub trait Collect: crate::sealed::Sealed + Send + Sync {
    /// Name, help, type, unit and constant labels.
    fn descriptor(&self) -> &Descriptor;

    /// The names of the labels whose values vary.
    fn label_names(&self) -> &[&'static str];

    /// Writes every series of this metric.
    fn encode(&self, enc: &mut SeriesEncoder<'_>);

    /// How many lookups of new label sets were refused, past the cardinality limit.
    fn refused_series(&self) -> u64;
}

/// A metric with its descriptor: the unit of registration.
///
/// Dereferences to the metric, so a `static` of this type is used directly.
///
/// ```
/// use promlink_core::{Counter, Metric};
///
/// static JOBS_TOTAL: Metric<Counter> = Metric::new("jobs_total", "Jobs run.", Counter::new());
/// promlink_core::register!(JOBS_TOTAL);
///
/// JOBS_TOTAL.inc();
/// assert_eq!(promlink_core::Registry::global().get_sample_value("jobs_total", &[]), Some(1.0));
/// ```
#[derive(Debug)]
pub struct Metric<M> {
    descriptor: Descriptor,
    metric: M,
}

impl<M: EncodeMetric> Metric<M> {
    /// Describes `metric`. See [`Descriptor::new`] for the name rules.
    ///
    /// # Panics
    ///
    /// On an invalid name; in a `static`, at compile time.
    #[track_caller]
    pub const fn new(name: &'static str, help: &'static str, metric: M) -> Self {
        Metric {
            descriptor: Descriptor::new(name, help, M::KIND),
            metric,
        }
    }

    /// Declares the unit; see [`Descriptor::with_unit`].
    #[must_use]
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        self.descriptor = self.descriptor.with_unit(unit);
        self
    }

    /// Adds labels with fixed values; see [`Descriptor::with_const_labels`].
    #[must_use]
    pub const fn with_const_labels(
        mut self,
        labels: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.descriptor = self.descriptor.with_const_labels(labels);
        self
    }

    /// The descriptor.
    pub const fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
}

impl<M> Deref for Metric<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.metric
    }
}

impl<M: EncodeMetric> crate::sealed::Sealed for Metric<M> {}

impl<M: EncodeMetric> Collect for Metric<M> {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn label_names(&self) -> &[&'static str] {
        self.metric.label_names()
    }

    fn encode(&self, enc: &mut SeriesEncoder<'_>) {
        self.metric.encode_metric(enc);
    }

    fn refused_series(&self) -> u64 {
        self.metric.refused_series()
    }
}
