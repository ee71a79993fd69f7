//! The runtime half of [promlink](https://docs.rs/promlink): metric types, label families,
//! the link-time registry and the exposition encoders.
//!
//! Everything here is usable by hand; the `promlink` crate adds the macros and the
//! exposition integrations. Metrics are `static`s built in `const` context, so the
//! compiler checks names, buckets and labels, and the linker registers them:
//!
//! ```
//! use promlink_core::{register, Counter, Family, Format, Gauge, Histogram, Metric, Registry};
//!
//! /// Total HTTP requests.
//! static HTTP_REQUESTS_TOTAL: Metric<Family<Counter, 3>> = Metric::new(
//!     "http_requests_total",
//!     "Total HTTP requests.",
//!     Family::new(["method", "endpoint", "status"], Counter::new()),
//! );
//! static ACTIVE_CONNECTIONS: Metric<Gauge> =
//!     Metric::new("active_connections", "Current active connections.", Gauge::new());
//! static HTTP_REQUEST_DURATION_SECONDS: Metric<Family<Histogram<8>, 1>> = Metric::new(
//!     "http_request_duration_seconds",
//!     "Request duration in seconds.",
//!     Family::new(["endpoint"], Histogram::new(&[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])),
//! )
//! .with_unit("seconds");
//! register!(HTTP_REQUESTS_TOTAL, ACTIVE_CONNECTIONS, HTTP_REQUEST_DURATION_SECONDS);
//!
//! HTTP_REQUESTS_TOTAL.labels(("GET", "/api/orders", 200)).inc();
//! ACTIVE_CONNECTIONS.set(42.0);
//! HTTP_REQUEST_DURATION_SECONDS.labels(["/api/orders"]).observe(0.07);
//!
//! let text = Registry::global().encode_to_string(Format::Text);
//! assert!(text.contains(r#"http_requests_total{method="GET",endpoint="/api/orders",status="200"} 1.0"#));
//! ```
//!
//! # Modules by job
//!
//! - [`Counter`], [`Gauge`], [`CallbackGauge`], [`Histogram`], [`Summary`], [`Info`],
//!   [`StateSet`]: the metric types, all `const`-constructible, all lock-free to update.
//! - [`Family`]: a metric with labels; [`LabelValue`] turns values into label text.
//!   [`DenseFamily`]: labels with a fixed set of values ([`FixedLabelValue`]), in an array.
//! - [`Metric`] and [`Descriptor`]: a metric with its name, help, type, unit and constant
//!   labels; [`register!`] puts a `static` one in the link-time slice.
//! - [`Registry`]: the global registry (link-time metrics, plus run-time ones and
//!   [`Collector`]s), separate registries, conflict reports, encoding.
//! - [`Format`]: text 0.0.4 and OpenMetrics 1.0.0, and the choice between them from an
//!   `Accept` header.

mod collector;
mod counter;
mod dense;
mod descriptor;
mod encoding;
mod exemplar;
mod exemplar_source;
mod family;
mod gather;
mod gauge;
mod health;
mod histogram;
mod info;
mod instrument;
mod label;
mod metric;
mod misuse;
mod panics;
mod parse;
mod reclaim;
mod registry;
mod time;
mod turn;

pub use collector::{CollectError, Collector, InvalidFamily, MetricFamily, SeriesValue};
pub use counter::{Counter, InvalidIncrement, ShardedCounter};
pub use dense::DenseFamily;
pub use descriptor::{is_label_name, is_metric_name, Descriptor, MetricType, Site};
pub use encoding::{
    Format, SeriesEncoder, Value, OPENMETRICS_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
};
pub use exemplar::{InvalidExemplar, MAX_EXEMPLAR_LABEL_CHARS};
pub use exemplar_source::{set_exemplar_source, ExemplarSource, ExemplarSourceSet};
pub use family::{
    Child, Family, InFlightLabels, LabelledFamily, RequestLabels, DEFAULT_MAX_SERIES,
    MAX_LABEL_VALUE_BYTES, OVERFLOW_VALUE,
};
pub use gauge::{CallbackGauge, Gauge, InProgress};
pub use histogram::{
    DefaultHistogram, Histogram, HistogramSnapshot, NativeBuckets, NativeSnapshot, Observe,
    Summary, Timer, DEFAULT_AGE_BUCKETS, DEFAULT_BUCKETS, DEFAULT_MAX_AGE,
    DEFAULT_MAX_NATIVE_BUCKETS, DEFAULT_ZERO_THRESHOLD, MAX_QUANTILE_BUCKETS, MAX_SCHEMA,
    MIN_SCHEMA, QUANTILE_RELATIVE_ERROR,
};
pub use info::{Info, InvalidLabelName, StateSet, UnknownState};
pub use instrument::CallResult;
pub use label::{FixedLabelValue, FixedLabelValues, LabelText, LabelValue, LabelValues};
pub use metric::{Collect, EncodeMetric, Metric, Series};
#[doc(hidden)]
pub use misuse::{
    CounterOnlyGoesUp, CountsComeFromObservations, NoLabelsDeclared, ObservationsAreForHistograms,
    PickAChildFirst,
};
pub use registry::{GatherError, RegistrationError, Registry, Scrape};
pub use time::{process_start_time, unix_time};

/// Traits only promlink implements.
mod sealed {
    pub trait Sealed {}
    pub trait Values<const N: usize> {}

    impl Sealed for crate::Counter {}
    impl Sealed for crate::ShardedCounter {}
    impl Sealed for crate::Gauge {}
    impl Sealed for crate::CallbackGauge {}
    impl<const N: usize> Sealed for crate::Histogram<N> {}
    impl Sealed for crate::Summary {}
    impl Sealed for crate::Info {}
    impl Sealed for crate::StateSet {}
    impl<M: crate::Series, const N: usize> Sealed for crate::Family<M, N> {}
    impl<M, L, const K: usize> Sealed for crate::DenseFamily<M, L, K> {}
}

/// Not public API: what `register!` and the macros' generated code refer to.
#[doc(hidden)]
pub mod __private {
    pub use crate::exemplar_source::PROMLINK_EXEMPLAR_SOURCES_V0_1;
    pub use crate::histogram::assert_non_negative_buckets;
    pub use crate::instrument::{
        CallCounts, CallGuard, CountGuard, CountTarget, DurationGuard, InProgressGuard,
        InProgressTarget, PlainOutcome, ResultOutcome, ReturnKind, Returned, ReturnsOther,
        ReturnsResult, TimeTarget,
    };
    pub use crate::registry::{Registration, PROMLINK_COLLECTORS_V0_1, PROMLINK_METRICS_V0_1};
    pub use linkme;
}
