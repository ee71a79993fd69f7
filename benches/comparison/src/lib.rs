//! promlink beside its peers: the workloads shared by the criterion benchmark
//! (`benches/comparison.rs`) and the memory count (`src/bin/memory.rs`).
//!
//! Peers: `prometheus` 0.14 (tikv), `prometheus-client` 0.26, `metrics` 0.24 with
//! `metrics-exporter-prometheus` 0.18 (the recorder alone), `measured` 0.0.25, and a bare
//! `AtomicU64` as the floor. Each peer is used the way its documentation shows, with its
//! cheapest idiom for the workload.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The histogram buckets of every workload that observes.
pub const BUCKETS: [f64; 8] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Python's default buckets, which `#[timed]` uses: the hand-written peers use them too.
pub const TIMED_BUCKETS: [f64; 14] = promlink::DEFAULT_BUCKETS;

/// The values observed, in turn.
pub const SAMPLES: [f64; 8] = [0.003, 0.07, 0.3, 0.3, 4.0, 7.0, 0.02, 0.9];

/// The label names of the labelled counter.
pub const REQUEST_LABELS: [&str; 3] = ["method", "endpoint", "status"];

/// The run-time label values looked up (through `black_box`).
pub const REQUEST_VALUES: (&str, &str, &str) = ("GET", "/api/orders", "200");

/// The global `metrics` recorder, installed once, and its handle for rendering.
///
/// `latency_seconds` gets [`BUCKETS`] and `function_duration_seconds` [`TIMED_BUCKETS`]
/// (without buckets the exporter would write a summary).
///
/// # Panics
///
/// If another global `metrics` recorder was installed first.
pub fn metrics_global() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = metrics_builder().build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).expect("no other global recorder");
        handle
    })
}

/// A `metrics-exporter-prometheus` builder with the workloads' buckets.
///
/// # Panics
///
/// Never: the buckets are valid.
pub fn metrics_builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("latency_seconds".into()), &BUCKETS)
        .expect("valid buckets")
        .set_buckets_for_metric(
            Matcher::Full("function_duration_seconds".into()),
            &TIMED_BUCKETS,
        )
        .expect("valid buckets")
}

/// promlink's declarations: a labelled counter looked up by strings, one with
/// fixed-cardinality enum labels (a dense family), and the unlabelled metrics.
pub mod promlink_side {
    use promlink::{declare_metrics, LabelValue};

    /// The request method.
    #[derive(Clone, Copy, Debug, LabelValue)]
    pub enum Method {
        /// `GET`.
        #[label(rename = "GET")]
        Get,
        /// `POST`.
        #[label(rename = "POST")]
        Post,
    }

    /// The endpoint.
    #[derive(Clone, Copy, Debug, LabelValue)]
    pub enum Endpoint {
        /// `/api/orders`.
        #[label(rename = "/api/orders")]
        Orders,
        /// `/api/users`.
        #[label(rename = "/api/users")]
        Users,
    }

    /// The response status.
    #[derive(Clone, Copy, Debug, LabelValue)]
    pub enum Status {
        /// `200`.
        #[label(rename = "200")]
        Ok,
        /// `404`.
        #[label(rename = "404")]
        NotFound,
        /// `500`.
        #[label(rename = "500")]
        Error,
    }

    declare_metrics! {
        /// Unlabelled increments.
        pub counter PL_EVENTS_TOTAL;
        /// Requests by run-time strings.
        pub counter PL_REQUESTS_TOTAL { method: &str, endpoint: &str, status: &str };
        /// Requests by enums.
        pub counter PL_ENUM_REQUESTS_TOTAL { method: Method, endpoint: Endpoint, status: Status };
        /// Latency.
        pub histogram PL_LATENCY_SECONDS buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
        /// Contended increments.
        pub counter PL_CONTENDED_TOTAL;
        /// Contended increments, striped over cache lines.
        #[metric(sharded)]
        pub counter PL_SHARDED_TOTAL;
        /// Hand-written call counting.
        pub counter PL_CALLS_TOTAL;
        /// Hand-written call timing.
        pub histogram PL_CALL_SECONDS buckets [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    }
}

/// `measured`'s label groups: strings interned in `lasso::ThreadedRodeo` sets (its
/// dynamic label sets), and fixed-cardinality enums (dense).
#[allow(missing_docs)] // the derive's generated label sets carry no docs
pub mod measured_side {
    use measured::{FixedCardinalityLabel, LabelGroup};

    /// Labels looked up by run-time strings.
    #[derive(Clone, Copy, Debug, LabelGroup)]
    #[label(set = RequestLabelSet)]
    pub struct RequestLabels<'a> {
        /// The request method.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub method: &'a str,
        /// The endpoint.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub endpoint: &'a str,
        /// The response status.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub status: &'a str,
    }

    /// The request method.
    #[derive(Clone, Copy, Debug, FixedCardinalityLabel)]
    pub enum Method {
        /// `GET`.
        #[label(rename = "GET")]
        Get,
        /// `POST`.
        #[label(rename = "POST")]
        Post,
    }

    /// The endpoint.
    #[derive(Clone, Copy, Debug, FixedCardinalityLabel)]
    pub enum Endpoint {
        /// `/api/orders`.
        #[label(rename = "/api/orders")]
        Orders,
        /// `/api/users`.
        #[label(rename = "/api/users")]
        Users,
    }

    /// The response status.
    #[derive(Clone, Copy, Debug, FixedCardinalityLabel)]
    pub enum Status {
        /// `200`.
        #[label(rename = "200")]
        Ok,
        /// `404`.
        #[label(rename = "404")]
        NotFound,
        /// `500`.
        #[label(rename = "500")]
        Error,
    }

    /// Labels with a fixed set of values.
    #[derive(Clone, Copy, Debug, LabelGroup)]
    #[label(set = EnumLabelSet)]
    pub struct EnumLabels {
        /// The request method.
        pub method: Method,
        /// The endpoint.
        pub endpoint: Endpoint,
        /// The response status.
        pub status: Status,
    }

    /// The encode workload's counter labels.
    #[derive(Clone, Copy, Debug, LabelGroup)]
    #[label(set = MethodPathLabelSet)]
    pub struct MethodPathLabels<'a> {
        /// The request method.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub method: &'a str,
        /// The path.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub path: &'a str,
    }

    /// The encode workload's metrics.
    #[derive(measured::MetricGroup)]
    pub struct EncodeGroup {
        /// Requests.
        pub requests_total: measured::CounterVec<MethodPathLabelSet>,
        /// Latency.
        pub latency_seconds: measured::HistogramVec<PathLabelSet, 8>,
    }

    /// The request mix's metrics (`benches/cardinality.rs`): a counter by method, endpoint
    /// and status, a histogram by method and endpoint (`path`).
    #[derive(measured::MetricGroup)]
    pub struct RequestGroup {
        /// Requests.
        pub requests_total: measured::CounterVec<RequestLabelSet>,
        /// Latency.
        pub latency_seconds: measured::HistogramVec<MethodPathLabelSet, 8>,
    }

    impl Default for RequestGroup {
        fn default() -> Self {
            RequestGroup {
                requests_total: measured::CounterVec::with_label_set(RequestLabelSet::default()),
                latency_seconds: measured::HistogramVec::with_label_set_and_metadata(
                    MethodPathLabelSet::default(),
                    measured::metric::histogram::Thresholds::with_buckets(super::BUCKETS),
                ),
            }
        }
    }

    /// One label looked up by run-time strings (the encode workload).
    #[derive(Clone, Copy, Debug, LabelGroup)]
    #[label(set = PathLabelSet)]
    pub struct PathLabels<'a> {
        /// The path.
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub path: &'a str,
    }
}

/// `prometheus-client`'s label sets: borrowed `&'static str`s (its cheapest), owned
/// `String`s (what run-time values that are not `'static` need), and enums.
pub mod client_side {
    use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
    use std::fmt::Write;

    /// Labels as `&'static str`.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct StaticLabels {
        /// The request method.
        pub method: &'static str,
        /// The endpoint.
        pub endpoint: &'static str,
        /// The response status.
        pub status: &'static str,
    }

    /// An exemplar's trace id.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct TraceLabel {
        /// The trace id, 32 hex digits.
        pub trace_id: String,
    }

    /// Labels as owned strings.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct OwnedLabels {
        /// The request method.
        pub method: String,
        /// The endpoint.
        pub endpoint: String,
        /// The response status.
        pub status: String,
    }

    /// A method and an endpoint as `&'static str` (the request mix's histogram).
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct StaticPair {
        /// The request method.
        pub method: &'static str,
        /// The endpoint.
        pub endpoint: &'static str,
    }

    /// Labels with the one run-time value owned (the memory count).
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct EndpointOwned {
        /// The request method.
        pub method: &'static str,
        /// The endpoint.
        pub endpoint: String,
        /// The response status.
        pub status: &'static str,
    }

    /// The encode workload's counter labels.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct MethodPath {
        /// The request method.
        pub method: &'static str,
        /// The path.
        pub path: String,
    }

    /// The encode workload's histogram labels.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct PathOnly {
        /// The path.
        pub path: String,
    }

    macro_rules! text_enum {
        ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum $name { $($variant),+ }

            impl $name {
                /// The label text.
                pub const fn as_str(self) -> &'static str {
                    match self { $(Self::$variant => $text),+ }
                }
            }

            impl EncodeLabelValue for $name {
                fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                    encoder.write_str(self.as_str())
                }
            }
        };
    }

    text_enum! {
        /// The request method.
        Method { Get => "GET", Post => "POST" }
    }
    text_enum! {
        /// The endpoint.
        Endpoint { Orders => "/api/orders", Users => "/api/users" }
    }
    text_enum! {
        /// The response status.
        Status { Ok => "200", NotFound => "404", Error => "500" }
    }

    /// Labels as enums.
    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct EnumLabels {
        /// The request method.
        pub method: Method,
        /// The endpoint.
        pub endpoint: Endpoint,
        /// The response status.
        pub status: Status,
    }
}
