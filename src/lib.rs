//! Prometheus metrics for Rust services.
//!
//! promlink's metrics are `static`s: built in `const` context (so the compiler checks
//! names, label names and buckets), registered at link time (so there is no registration
//! call and no lazy initialisation), and updated with a single relaxed atomic operation
//! where the metric type allows it. The registry encodes them in the Prometheus text
//! format 0.0.4 or OpenMetrics 1.0.0, chosen from the scrape's `Accept` header.
//!
//! ```
//! use promlink::{declare_metrics, Format, Registry};
//!
//! declare_metrics! {
//!     /// Total HTTP requests.
//!     pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
//!     /// Current active connections.
//!     pub gauge ACTIVE_CONNECTIONS;
//!     /// Request duration in seconds.
//!     pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str }
//!         buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
//! }
//!
//! HTTP_REQUESTS_TOTAL.labels("GET", "/api/orders", 200).inc();
//! ACTIVE_CONNECTIONS.set(42.0);
//! HTTP_REQUEST_DURATION_SECONDS.labels("/api/orders").observe(0.07);
//!
//! assert_eq!(
//!     Registry::global().get_sample_value(
//!         "http_requests_total",
//!         &[("method", "GET"), ("endpoint", "/api/orders"), ("status", "200")]
//!     ),
//!     Some(1.0)
//! );
//! ```
//!
//! See [`promlink_core`] for the types; this crate re-exports all of them.
//!
//! # Cargo features
//!
//! | feature | gives |
//! |---|---|
//! | `server` (default) | `start_http_server`: `/metrics` from a background thread |
//! | `tls` | `ServerOptions::tls`: HTTPS, mutual TLS, certificates re-read when renewed |
//! | `process` (default, Linux) | `process`: the process collector |
//! | `http` | `http::metrics_response`: the endpoint as a function of an `http` request |
//! | `tower` | `tower::MetricsLayer`: request metrics for any tower service |
//! | `axum` | the layer reads axum's matched route; `axum::metrics_route` |
//! | `push` | `push`: a push gateway client |
//! | `opentelemetry` | exemplars: the current sampled span's `trace_id` and `span_id` on what `#[counted]`, `#[timed]` and the layer record |
//!
//! On docs.rs every item shows the feature it needs.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use promlink_core::*;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod opentelemetry;
#[cfg(all(feature = "process", target_os = "linux"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "process", target_os = "linux"))))]
pub mod process;
#[cfg(feature = "push")]
#[cfg_attr(docsrs, doc(cfg(feature = "push")))]
pub mod push;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use server::TlsConfig;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::{
    start_http_server, start_http_server_with, Credentials, ListenAddr, MetricsServer,
    ServerOptions,
};

/// Declares `static` metrics, registered at link time, with typed label lookups.
///
/// # Syntax
///
/// ```text
/// declare_metrics! {
///     crate = path::to::promlink;                    // optional, first: a re-export
///
///     /// HELP text (required: promtool rejects metrics without it).
///     #[metric(name = "..", help = "..", unit = "..", const_labels(k = "v", ..), max_series = N, sharded)]
///     pub counter   NAME_TOTAL { label: Type, #[unbounded] other: Type, .. };
///     pub gauge     NAME { label: Type, .. };
///     pub histogram NAME_SECONDS { label: Type, .. } buckets [0.1, 0.5, 1.0];
///     pub histogram NAME_SECONDS buckets SHARED_BUCKETS;   // a `const [f64; N]`
///     pub histogram NAME_SECONDS native;                   // native buckets, schema 3
///     pub histogram NAME_SECONDS buckets [..] native(factor = 1.1, zero_threshold = 1e-9, max_buckets = 160);
///     pub summary   NAME_BYTES { label: Type, .. };         // count and sum
///     pub summary   NAME_SECONDS quantiles [0.5, 0.9, 0.99]; // and quantiles, last 10 min
///     pub info      BUILD;                                 // `build_info`, no labels
///     pub stateset  STATE states ["starting", "running"];  // no labels
/// }
/// ```
///
/// - **Names.** The static is named in `SCREAMING_SNAKE_CASE`; the metric name is its
///   lowercase form (`name = ".."` overrides it). Counters end in `_total` and nothing
///   else does; `_created`, `_bucket`, `_count`, `_sum` are refused. A unit must end the
///   name (`unit = "seconds"` on `..._seconds`).
/// - **Labels** in braces, typed: `&str`, `String`, `Cow<str>`, `Box<str>`, `Arc<str>`,
///   integers, `char`, `bool`, and enums deriving [`LabelValue`]. At most 12 labels.
///   Floats and bytes are refused (every float would be a series). A metric whose labels
///   are all `bool`s or enums keeps its children in a dense array, every combination
///   exported at 0. Names that look like per-user identity (`user_id`, `email`, `*_id`,
///   `*_token`, `ip`) are refused unless marked `#[unbounded]` or capped with
///   `max_series`.
/// - **A cardinality limit**: a family holds at most [`DEFAULT_MAX_SERIES`] label sets
///   (`#[metric(max_series = N)]` sets it; below the combinations of its enum and bool
///   labels, a compile error). Past it, and for a value over [`MAX_LABEL_VALUE_BYTES`],
///   new label sets are counted in one series whose values are all [`OVERFLOW_VALUE`],
///   `promlink_series_refused_total{metric}` counts them, and stderr says so once.
/// - **Constant labels**, the same on every series: `#[metric(const_labels(service =
///   "orders"))]`; they may not repeat a variable label.
/// - **Buckets**: number literals, checked by the macro (finite, increasing, not negative
///   for seconds or bytes), or the name of a `const` array shared by several histograms
///   (and `#[timed(buckets = NAME)]`), checked the same way in `const` evaluation.
///   Without buckets, Python's defaults ([`DEFAULT_BUCKETS`]).
/// - **Native buckets** ([`NativeBuckets`]): `native` alone gives a native histogram
///   (exposed in protobuf, which Prometheus asks for with
///   `--enable-feature=native-histograms`; count and sum in the text formats); beside
///   `buckets`, a histogram with both, as Go's client makes. `schema` (-4 to 8) or
///   `factor` (the most neighbouring bounds may differ by), `zero_threshold` and
///   `max_buckets` (past which the resolution is halved) are checked by the macro.
/// - **Quantiles** of a summary: from 0 to 1, increasing, over a sliding window of ten
///   minutes, each within [`QUANTILE_RELATIVE_ERROR`] of the observation of its rank
///   (see [`Summary`]); `Summary::max_age` and `age_buckets` change the window at run
///   time.
/// - `#[metric(sharded)]` on a hot counter spreads its increments over cache lines.
/// - A dependency renamed in `Cargo.toml` (`metrics = { package = "promlink", .. }`) is
///   found by itself, in the manifest. `crate = path;` first when promlink is reached
///   through another crate's re-export (`crate = my_platform::promlink;`).
///
/// Each labelled metric gets a type of its own (`HttpRequestsTotalMetric` for
/// `HTTP_REQUESTS_TOTAL`) with `labels(..)` (positional) and
/// `with(HttpRequestsTotalLabels { .. })` (named): a wrong count, name or type is rustc's
/// own error on your token.
///
/// ```
/// use promlink::{declare_metrics, LabelValue};
///
/// #[derive(Clone, Copy, LabelValue)]
/// enum Method {
///     #[label(rename = "GET")]
///     Get,
///     #[label(rename = "POST")]
///     Post,
/// }
///
/// /// One bucket list for every latency histogram.
/// const LATENCY_BUCKETS: [f64; 5] = [0.005, 0.05, 0.25, 1.0, 5.0];
///
/// declare_metrics! {
///     /// Total HTTP requests.
///     pub counter HTTP_REQUESTS_TOTAL { method: Method, endpoint: &str, status: u16 };
///     /// Cache lookups: fixed-cardinality labels live in a dense array.
///     counter CACHE_LOOKUPS_TOTAL { method: Method, hit: bool };
///     /// Request duration.
///     #[metric(unit = "seconds")]
///     pub histogram REQUEST_DURATION_SECONDS { endpoint: &str } buckets [0.01, 0.1, 1.0];
///     /// Database query duration.
///     pub histogram DB_QUERY_SECONDS { table: &str } buckets LATENCY_BUCKETS;
///     /// Response sizes.
///     pub summary RESPONSE_BYTES;
///     /// Queue wait, native buckets only: any latency, 9% resolution.
///     pub histogram QUEUE_WAIT_SECONDS native;
///     /// RPC latency quantiles.
///     pub summary RPC_SECONDS { method: &str } quantiles [0.5, 0.99];
///     /// Orders taken, by a service deployed per region.
///     #[metric(const_labels(service = "orders", region = "eu-west"))]
///     pub counter ORDERS_TOTAL { #[unbounded] tenant_id: u32 };
///     /// Build information.
///     pub info BUILD;
///     /// Task state.
///     stateset TASK_STATE states ["starting", "running", "stopped"];
/// }
///
/// // Positional, in declaration order: a wrong count or type does not compile.
/// HTTP_REQUESTS_TOTAL.labels(Method::Get, "/api/orders", 200).inc();
/// // By name: a missing or unknown label does not compile.
/// HTTP_REQUESTS_TOTAL.with(HttpRequestsTotalLabels { method: Method::Post, endpoint: "/api/orders", status: 201 }).inc();
/// CACHE_LOOKUPS_TOTAL.labels(Method::Get, true).inc();
/// REQUEST_DURATION_SECONDS.labels("/api/orders").observe(0.05);
/// DB_QUERY_SECONDS.labels("orders").time(|| { /* the query */ });
/// RESPONSE_BYTES.observe(512.0);
/// QUEUE_WAIT_SECONDS.observe(0.003);
/// RPC_SECONDS.labels("get").observe(0.02);
/// ORDERS_TOTAL.labels(42).inc();
/// BUILD.set(&[("version", "1.2.0")]).unwrap();
/// TASK_STATE.set_state("running");
/// ```
///
/// # Metrics in a library
///
/// A library's metrics reach the binary's registry only if the binary links the library.
/// One that the binary calls is linked; one it only depends on (its metrics, or
/// functions instrumented for others to call) is left out by rustc, and its metrics with
/// it. Name it once in the binary: `use my_library as _;`. To be told of every such
/// dependency when the binary compiles, put `#![warn(unused_crate_dependencies)]` at the
/// top of its `main.rs`: rustc then names each one with that very line to add.
pub use promlink_macros::declare_metrics;

/// Counts a function's calls, by outcome, however they end.
///
/// Without arguments, every instrumented function shares one family, so one query covers
/// them all: `function_calls_total{function, module, result}`, where `result` is `ok`,
/// `error` (an `Err` returned, or left through `?`), `panic` (Python's
/// `count_exceptions`), or `cancelled` (an `async fn` whose future was dropped before it
/// completed). Every outcome of every function is exported at 0 from the first scrape.
/// Whether a function returns a `Result` is read from its type, so aliases such as
/// `io::Result` count too.
///
/// - `#[counted(name = "orders_processed_total")]`: a family of its own (help from
///   `help = ".."` or the function's doc comment).
/// - `#[counted(HTTP_REQUESTS_TOTAL, labels(method = "GET", endpoint = path))]`: each call
///   increments a counter declared with [`declare_metrics!`], with label values taken
///   from constants or arguments (evaluated when the call starts); a wrong or missing
///   label is a compile error on your token.
/// - On an `impl` block, every method is instrumented (labelled `Type::method`) except
///   those marked `#[counted(skip)]`. A method's own `#[counted(..)]`, `#[timed(..)]` or
///   `#[in_progress(..)]` inside that block is labelled `Type::method` too.
/// - `#[counted(function = "Type::method")]`: the `function` label. An attribute on a
///   single method cannot see its type and labels it with the bare method name, so two
///   types in one module instrumenting a method `load` that way would write the same
///   series: the registry keeps the first, and [`Registry::check`] names both sites. Name
///   such methods with `function`, or put the attribute on the `impl` block.
/// - With `#[async_trait]`, either order works; putting `#[counted]` first lets it see
///   the `async fn` as written.
/// - A plain `fn` returning a future (`impl Future<..>`, `Pin<Box<dyn Future<..>>>`,
///   `BoxFuture<..>`) is counted as an `async fn` is: by the future's outcome, when it
///   completes (`cancelled` when dropped before). The same holds for `#[timed]` and
///   `#[in_progress]`.
/// - `crate = path` when promlink is reached through a re-export (a renamed dependency is
///   found by itself).
///
/// ```
/// use promlink::{counted, Registry};
///
/// #[derive(Debug)]
/// struct OutOfStock;
///
/// #[counted]
/// fn reserve(quantity: u32) -> Result<u32, OutOfStock> {
///     if quantity > 10 {
///         return Err(OutOfStock);
///     }
///     Ok(quantity)
/// }
///
/// reserve(3).unwrap();
/// reserve(30).unwrap_err();
/// let calls = |result| {
///     Registry::global().get_sample_value(
///         "function_calls_total",
///         &[("function", "reserve"), ("module", module_path!()), ("result", result)],
///     )
/// };
/// assert_eq!((calls("ok"), calls("error"), calls("panic")), (Some(1.0), Some(1.0), Some(0.0)));
/// ```
pub use promlink_macros::counted;

/// Observes the duration of a function's calls in seconds, however they end (Python's
/// `Histogram.time`). For an `async fn` the duration spans the awaits; so it does for a
/// plain `fn` returning a future (`impl Future<..>`, `Pin<Box<dyn Future<..>>>`,
/// `BoxFuture<..>`): the future it builds is timed from its first poll to its end, as an
/// `async fn`'s would be, never the microseconds spent building it.
///
/// Without arguments: `function_duration_seconds{function, module}` with Python's default
/// buckets, or `#[timed(buckets = [0.01, 0.1, 1])]`; `#[timed(native)]` (or
/// `native(schema = 3, ..)`, as in [`declare_metrics!`]) for native buckets, alone or
/// beside `buckets`. Also `name`, `help`, a target histogram with `labels(..)`, `skip`
/// and `crate` as for [`counted`].
///
/// ```
/// use promlink::{timed, Registry};
///
/// #[timed(buckets = [0.01, 0.1, 1])]
/// fn resize(pixels: &mut [u8]) -> usize {
///     pixels.len()
/// }
///
/// resize(&mut [0; 16]);
/// let count = Registry::global().get_sample_value(
///     "function_duration_seconds_count",
///     &[("function", "resize"), ("module", module_path!())],
/// );
/// assert_eq!(count, Some(1.0));
/// ```
pub use promlink_macros::timed;

/// Tracks a function's calls in progress (Python's `Gauge.track_inprogress`):
/// `function_calls_in_progress{function, module}`, or a target gauge with `labels(..)`.
/// Also `name`, `help`, `function`, `skip` and `crate = path` as for [`counted`].
///
/// ```
/// use promlink::{in_progress, Registry};
///
/// #[in_progress]
/// fn import_batch() -> Option<f64> {
///     Registry::global().get_sample_value(
///         "function_calls_in_progress",
///         &[("function", "import_batch"), ("module", module_path!())],
///     )
/// }
///
/// assert_eq!(import_batch(), Some(1.0));
/// ```
pub use promlink_macros::in_progress;

/// Derives [`LabelValue`] and [`FixedLabelValue`] for an enum of unit variants.
///
/// Values are the variants' names in `snake_case`, or `#[label(rename = "..")]`. A
/// family whose labels are all such enums or `bool`s keeps its children in a dense
/// array, with every combination exported from the first scrape. For promlink reached
/// through a re-export, `#[label(crate = path::to::promlink)]` on the enum.
///
/// ```
/// use promlink::{FixedLabelValue, LabelValue};
///
/// #[derive(LabelValue)]
/// enum Outcome {
///     Hit,
///     NotFound,
///     #[label(rename = "error")]
///     Failed,
/// }
/// assert_eq!(Outcome::VALUES, ["hit", "not_found", "error"]);
/// ```
pub use promlink_macros::LabelValue;

/// The README's snippets, compiled as doctests (with every feature they use).
#[cfg(all(doctest, feature = "axum", feature = "server"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Not public API: what the macros' generated code refers to.
#[doc(hidden)]
pub mod __private {
    pub use promlink_core::__private::*;
    pub use promlink_core::{
        Child, Counter, DenseFamily, Family, FixedLabelValue, FixedLabelValues, Gauge, Histogram,
        InFlightLabels, Info, LabelText, LabelValue, Metric, NativeBuckets, RequestLabels,
        ShardedCounter, StateSet, Summary, DEFAULT_BUCKETS,
    };
}
