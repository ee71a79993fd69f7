//! Request metrics for any [tower](https://docs.rs/tower) service over `http` types.
//!
//! [`MetricsLayer::new`] records, per request, into families of its own:
//!
//! - `http_server_requests_total{method, endpoint, status}` (counter),
//! - `http_server_request_duration_seconds{method, endpoint}` (histogram, Python's
//!   default buckets; the time until the response's head is ready),
//! - `http_server_active_requests{method, endpoint}` (gauge).
//!
//! The names follow OpenTelemetry's HTTP server conventions, so they never collide with
//! the `http_requests_total` and `http_request_duration_seconds` a service declares
//! itself. [`HttpMetrics::builder`] changes the prefix and the buckets, or points the
//! layer at metrics declared with [`declare_metrics!`](crate::declare_metrics), whose
//! labels may be any of `method`, `endpoint` and `status`, in any order:
//!
//! ```
//! use promlink::{declare_metrics, tower::{HttpMetrics, MetricsLayer}, Registry};
//!
//! declare_metrics! {
//!     /// Total HTTP requests.
//!     pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
//!     /// Request duration in seconds.
//!     pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str }
//!         buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
//! }
//!
//! let metrics = HttpMetrics::builder()
//!     .requests(&HTTP_REQUESTS_TOTAL)
//!     .duration(&HTTP_REQUEST_DURATION_SECONDS)
//!     .register(Registry::global())?;   // the in-flight gauge stays the layer's own
//! let layer = MetricsLayer::with_metrics(metrics);
//! # Ok::<(), promlink::tower::HttpMetricsError>(())
//! ```
//!
//! `endpoint` is the route *template* that matched (`/orders/{id}`), never the raw path: a
//! path holding ids would make a series per id. With the `axum` feature the template comes
//! from axum's `MatchedPath`; any router can instead put a [`RouteTemplate`] in the
//! request's extensions, or the layer can be given a function
//! ([`MetricsLayer::endpoint_with`]). Requests no route matched are labelled
//! `endpoint="unmatched"` (no template starts without `/`, so it cannot be a route).
//! Methods outside RFC 9110's and PATCH are labelled `OTHER`, so a client cannot create
//! series at will.
//!
//! A service error (`Err` from the inner service) is counted as status `500`: the client
//! gets no successful answer. A request whose future is dropped before the response (the
//! client went away) leaves the in-flight gauge and is not counted.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Extensions, Method, Request, Response, StatusCode, Uri};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    Collect, Counter, Family, Gauge, Histogram, LabelledFamily, Metric, Observe, RegistrationError,
    Registry, DEFAULT_BUCKETS,
};
pub use crate::{InFlightLabels, RequestLabels};

/// The endpoint label of requests that no route matched.
pub const UNMATCHED: &str = "unmatched";

/// A route template, put in a request's extensions by a router that is not axum, for
/// [`MetricsLayer`] to label the request with.
///
/// ```
/// use promlink::tower::RouteTemplate;
///
/// let mut request = http::Request::get("/orders/17").body(()).unwrap();
/// request.extensions_mut().insert(RouteTemplate::new("/orders/:id"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate(Cow<'static, str>);

impl RouteTemplate {
    /// A template such as `/orders/:id`.
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        RouteTemplate(template.into())
    }

    /// The template's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the layer finds a request's endpoint label: `None` for a request no route matched.
pub type EndpointFn = for<'a> fn(&'a Uri, &'a Extensions) -> Option<Cow<'a, str>>;

/// The default [`EndpointFn`]: axum's `MatchedPath` (with the `axum` feature), else a
/// [`RouteTemplate`] extension.
pub fn route_template<'a>(_uri: &'a Uri, extensions: &'a Extensions) -> Option<Cow<'a, str>> {
    #[cfg(feature = "axum")]
    if let Some(matched) = extensions.get::<axum::extract::MatchedPath>() {
        return Some(Cow::Borrowed(matched.as_str()));
    }
    extensions
        .get::<RouteTemplate>()
        .map(|template| Cow::Borrowed(template.as_str()))
}

/// The prefix of the layer's own families' names.
const DEFAULT_PREFIX: &str = "http_server";

/// What the layer knows of a request, by label name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Method,
    Endpoint,
    Status,
}

impl Part {
    fn named(name: &str) -> Option<Part> {
        match name {
            "method" => Some(Part::Method),
            "endpoint" => Some(Part::Endpoint),
            "status" => Some(Part::Status),
            _ => None,
        }
    }
}

/// One request's label values.
struct Facts<'a> {
    method: &'static str,
    endpoint: &'a str,
    /// Unknown while the request is in flight.
    status: &'a str,
}

/// A family and, for each of its labels, which part of a request fills it.
struct Bound<F: ?Sized> {
    order: Box<[Part]>,
    family: Arc<F>,
}

impl<F: ?Sized> Bound<F> {
    /// Binds `family` (named `name`), whose labels must be among `allowed`.
    fn new(
        name: &str,
        family: Arc<F>,
        label_names: &[&'static str],
        allowed: &'static [&'static str],
    ) -> Result<Self, HttpMetricsError> {
        let order = label_names
            .iter()
            .map(|label| {
                Part::named(label)
                    .filter(|_| allowed.contains(label))
                    .ok_or_else(|| HttpMetricsError::Label {
                        metric: name.to_owned(),
                        label,
                        allowed,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Bound { order, family })
    }

    /// Calls `f` with the family's label values for `facts`, in its order.
    fn with_values<R>(&self, facts: &Facts<'_>, f: impl FnOnce(&F, &[&str]) -> R) -> R {
        let mut values = [""; 3];
        for (value, part) in values.iter_mut().zip(&self.order) {
            *value = match part {
                Part::Method => facts.method,
                Part::Endpoint => facts.endpoint,
                Part::Status => facts.status,
            };
        }
        f(&self.family, &values[..self.order.len()])
    }
}

/// A family of durations, whatever its buckets.
trait Durations: Send + Sync {
    fn observe(&self, values: &[&str], seconds: f64);
}

/// `F` as [`Durations`]: `H` names its series type.
struct DurationsOf<H, F>(F, PhantomData<fn(&H)>);

impl<H: Observe, F: LabelledFamily<H>> Durations for DurationsOf<H, F> {
    fn observe(&self, values: &[&str], seconds: f64) {
        self.0
            .with_child_of(values, &mut |histogram| histogram.observe_traced(seconds));
    }
}

/// Why [`HttpMetrics`] could not be built.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HttpMetricsError {
    /// One of the layer's own families conflicts with a metric of the registry.
    Registration(RegistrationError),
    /// A family given to the builder has a label the layer cannot fill.
    Label {
        /// The family's name.
        metric: String,
        /// The label.
        label: &'static str,
        /// The labels that family may have.
        allowed: &'static [&'static str],
    },
    /// The prefix does not make valid metric names.
    Prefix(String),
}

impl fmt::Display for HttpMetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpMetricsError::Registration(e) => e.fmt(f),
            HttpMetricsError::Label {
                metric,
                label,
                allowed,
            } => write!(
                f,
                "`{metric}` has a label `{label}` that the request metrics layer cannot fill: its \
                 labels must be among {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            HttpMetricsError::Prefix(prefix) => write!(
                f,
                "`{prefix}` is not a metric name prefix: it must match [a-zA-Z_:][a-zA-Z0-9_:]*"
            ),
        }
    }
}

impl std::error::Error for HttpMetricsError {}

impl From<RegistrationError> for HttpMetricsError {
    fn from(e: RegistrationError) -> Self {
        HttpMetricsError::Registration(e)
    }
}

/// The labels a counter or a histogram fed by the layer may have.
const REQUEST_LABELS: &[&str] = &["method", "endpoint", "status"];
/// The labels an in-flight gauge may have: the status is not known yet.
const IN_FLIGHT_LABELS: &[&str] = &["method", "endpoint"];

/// The families [`MetricsLayer`] records into. Cheap to clone.
#[derive(Clone)]
pub struct HttpMetrics(Arc<Families>);

struct Families {
    requests: Bound<dyn LabelledFamily<Counter>>,
    duration: Bound<dyn Durations>,
    in_flight: Option<Bound<dyn LabelledFamily<Gauge>>>,
}

impl fmt::Debug for HttpMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpMetrics").finish_non_exhaustive()
    }
}

impl HttpMetrics {
    /// The layer's own families with their default names and buckets, registered in
    /// `registry`; the same as `HttpMetrics::builder().register(registry)`.
    ///
    /// # Errors
    ///
    /// When `registry` already has a family of one of these names.
    ///
    /// ```
    /// use promlink::{tower::HttpMetrics, Registry};
    ///
    /// let registry = Registry::new();
    /// let metrics = HttpMetrics::register(&registry)?;
    /// assert!(HttpMetrics::register(&registry).is_err(), "the names are taken");
    /// # Ok::<(), promlink::tower::HttpMetricsError>(())
    /// ```
    pub fn register(registry: &Registry) -> Result<Self, HttpMetricsError> {
        HttpMetrics::builder().register(registry)
    }

    /// Chooses names, buckets, or families of one's own for the layer.
    pub fn builder() -> HttpMetricsBuilder {
        HttpMetricsBuilder::new()
    }

    /// The layer's own families in the global registry, registered on first use.
    ///
    /// # Panics
    ///
    /// When the global registry already has a family of one of these names that is not
    /// this one: build [`HttpMetrics`] with [`builder`](Self::builder) then.
    pub fn global() -> &'static HttpMetrics {
        static GLOBAL: OnceLock<HttpMetrics> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            HttpMetrics::register(Registry::global()).unwrap_or_else(|e| {
                panic!("promlink: the HTTP request metrics cannot be registered: {e}")
            })
        })
    }
}

/// A family for the layer: its name, its label names and the family as the layer feeds
/// it; for one of the layer's own, also as the registry sees it.
struct Made<F: ?Sized> {
    name: String,
    labels: &'static [&'static str],
    family: Arc<F>,
    own: Option<Arc<dyn Collect>>,
}

impl<F: ?Sized> Made<F> {
    /// Binds the family to the parts of a request its labels name, which must be among
    /// `allowed`, and notes it in `own` when it is the layer's.
    fn bind(
        self,
        allowed: &'static [&'static str],
        own: &mut Vec<Arc<dyn Collect>>,
    ) -> Result<Bound<F>, HttpMetricsError> {
        let bound = Bound::new(&self.name, self.family, self.labels, allowed)?;
        own.extend(self.own);
        Ok(bound)
    }
}

/// A family of the layer's own, made once its name is known.
type Maker<F> = Box<dyn FnOnce(&'static str) -> Made<F>>;

/// The layer's own family named `name`, of `prototype`s labelled `labels`.
fn own_family<M: crate::Series, const N: usize>(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str; N],
    prototype: M,
) -> Made<dyn LabelledFamily<M>> {
    let family = Arc::new(Metric::new(name, help, Family::new(*labels, prototype)));
    Made {
        name: name.to_owned(),
        labels,
        family: family.clone(),
        own: Some(family),
    }
}

/// The layer's duration histogram named `name`, with `buckets`.
fn own_durations<const B: usize>(
    name: &'static str,
    buckets: &'static [f64; B],
) -> Made<dyn Durations> {
    const LABELS: [&str; 2] = ["method", "endpoint"];
    let family = Arc::new(
        Metric::new(
            name,
            "HTTP request duration in seconds, until the response head.",
            Family::new(LABELS, Histogram::new(buckets)),
        )
        .with_unit("seconds"),
    );
    Made {
        name: name.to_owned(),
        labels: &LABELS,
        family: Arc::new(DurationsOf(family.clone(), PhantomData)),
        own: Some(family),
    }
}

/// A family given to the builder, with its name and labels.
fn given<M: 'static, T>(metric: &'static T) -> Made<dyn LabelledFamily<M>>
where
    T: RequestLabels,
    T::Family: LabelledFamily<M>,
{
    let family: &'static T::Family = metric.family();
    Made {
        name: family.descriptor().name().to_owned(),
        labels: LabelledFamily::label_names(family),
        family: Arc::new(family),
        own: None,
    }
}

/// Where the builder's in-flight requests go.
enum InFlight {
    Own,
    Given(Made<dyn LabelledFamily<Gauge>>),
    Nowhere,
}

/// Builds [`HttpMetrics`]: `HttpMetrics::builder()`.
///
/// Each of the three families is the layer's own unless one is given: a metric declared
/// with [`declare_metrics!`](crate::declare_metrics) (or any `static` [`Metric`] of a
/// [`Family`]), already registered, whose labels may be any of `method`, `endpoint` and
/// `status` (not `status` for the in-flight gauge), in any order. For a declared metric
/// the compiler checks all of it: a labelled family of the right type
/// ([`LabelledFamily`]), with labels the layer can fill ([`RequestLabels`],
/// [`InFlightLabels`]); a `static` [`Metric`] built by hand has its label names checked by
/// [`register`](Self::register).
#[must_use]
pub struct HttpMetricsBuilder {
    prefix: Cow<'static, str>,
    /// The layer's own histogram, with the buckets chosen.
    own_durations: Maker<dyn Durations>,
    requests: Option<Made<dyn LabelledFamily<Counter>>>,
    duration: Option<Made<dyn Durations>>,
    in_flight: InFlight,
}

impl fmt::Debug for HttpMetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpMetricsBuilder")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl HttpMetricsBuilder {
    fn new() -> Self {
        HttpMetricsBuilder {
            prefix: Cow::Borrowed(DEFAULT_PREFIX),
            own_durations: Box::new(|name| own_durations(name, &DEFAULT_BUCKETS)),
            requests: None,
            duration: None,
            in_flight: InFlight::Own,
        }
    }

    /// Names the layer's own families `{prefix}_requests_total`,
    /// `{prefix}_request_duration_seconds` and `{prefix}_active_requests` (the prefix is
    /// `http_server` by default).
    ///
    /// ```
    /// use promlink::{tower::HttpMetrics, Registry};
    ///
    /// let registry = Registry::new();
    /// HttpMetrics::builder().prefix("api").register(&registry)?;
    /// assert!(registry.encode_to_string(promlink::Format::Text).contains("# TYPE api_requests_total counter"));
    /// # Ok::<(), promlink::tower::HttpMetricsError>(())
    /// ```
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The bucket bounds of the layer's own duration histogram (Python's defaults
    /// otherwise).
    ///
    /// # Panics
    ///
    /// Unless the bounds are finite and strictly increasing and there is at least one.
    ///
    /// ```
    /// use promlink::tower::HttpMetrics;
    /// let builder = HttpMetrics::builder().buckets(&[0.005, 0.05, 0.5, 5.0]);
    /// ```
    pub fn buckets<const B: usize>(mut self, buckets: &'static [f64; B]) -> Self {
        // Checked here, where the caller's mistake is, not when registering.
        let _checked = Histogram::new(buckets);
        self.own_durations = Box::new(move |name| own_durations(name, buckets));
        self
    }

    /// Counts requests into `counter`, a declared counter with labels among `method`,
    /// `endpoint` and `status`.
    pub fn requests<T>(mut self, counter: &'static T) -> Self
    where
        T: RequestLabels,
        T::Family: LabelledFamily<Counter>,
    {
        self.requests = Some(given(counter));
        self
    }

    /// Observes durations into `histogram`, a declared histogram (or summary) with labels
    /// among `method`, `endpoint` and `status`, whatever its buckets.
    pub fn duration<T, H>(mut self, histogram: &'static T) -> Self
    where
        T: RequestLabels,
        T::Family: LabelledFamily<H>,
        H: Observe + 'static,
    {
        let family: &'static T::Family = histogram.family();
        self.duration = Some(Made {
            name: family.descriptor().name().to_owned(),
            labels: LabelledFamily::label_names(family),
            family: Arc::new(DurationsOf(family, PhantomData)),
            own: None,
        });
        self
    }

    /// Tracks requests in flight in `gauge`, a declared gauge with labels among `method`
    /// and `endpoint`.
    pub fn in_flight<T>(mut self, gauge: &'static T) -> Self
    where
        T: InFlightLabels,
        T::Family: LabelledFamily<Gauge>,
    {
        self.in_flight = InFlight::Given(given(gauge));
        self
    }

    /// Tracks no requests in flight.
    pub fn without_in_flight(mut self) -> Self {
        self.in_flight = InFlight::Nowhere;
        self
    }

    /// Registers the layer's own families (those not given) in `registry`: all or none.
    ///
    /// # Errors
    ///
    /// When a given family has a label the layer cannot fill, the prefix makes invalid
    /// names, or one of the layer's own families conflicts with a metric of `registry`.
    pub fn register(self, registry: &Registry) -> Result<HttpMetrics, HttpMetricsError> {
        let prefix = &*self.prefix;
        if !crate::is_metric_name(&format!("{prefix}_requests_total")) {
            return Err(HttpMetricsError::Prefix(prefix.to_owned()));
        }
        // Registered families keep their names for as long as the process runs.
        let name = |suffix: &str| -> &'static str { format!("{prefix}_{suffix}").leak() };
        let mut own = Vec::new();
        let requests = self
            .requests
            .unwrap_or_else(|| {
                own_family(
                    name("requests_total"),
                    "Total HTTP requests.",
                    &["method", "endpoint", "status"],
                    Counter::new(),
                )
            })
            .bind(REQUEST_LABELS, &mut own)?;
        let duration = self
            .duration
            .unwrap_or_else(|| (self.own_durations)(name("request_duration_seconds")))
            .bind(REQUEST_LABELS, &mut own)?;
        let in_flight = match self.in_flight {
            InFlight::Nowhere => None,
            InFlight::Given(made) => Some(made),
            InFlight::Own => Some(own_family(
                name("active_requests"),
                "HTTP requests being served.",
                &["method", "endpoint"],
                Gauge::new(),
            )),
        }
        .map(|made| made.bind(IN_FLIGHT_LABELS, &mut own))
        .transpose()?;
        for (registered, family) in own.iter().enumerate() {
            if let Err(e) = registry.register(family.clone()) {
                // All or none.
                for earlier in &own[..registered] {
                    registry.unregister(earlier);
                }
                return Err(e.into());
            }
        }
        Ok(HttpMetrics(Arc::new(Families {
            requests,
            duration,
            in_flight,
        })))
    }
}

/// A tower [`Layer`] recording request metrics; see the [module](self) for what it records.
///
/// With axum, `Router::layer` wraps the routes added *before* it: put the layer after the
/// routes it measures (requests to routes added later are not recorded, without a
/// word), and the `/metrics` route after the layer.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{routing::get, Router};
/// use promlink::tower::MetricsLayer;
///
/// let app: Router = Router::new()
///     .route("/orders/{id}", get(|| async { "an order" }))
///     .layer(MetricsLayer::new())
///     .route("/metrics", promlink::axum::metrics_route());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: HttpMetrics,
    endpoint: EndpointFn,
}

impl MetricsLayer {
    /// Records into [`HttpMetrics::global`], with the endpoint from [`route_template`].
    ///
    /// # Panics
    ///
    /// As [`HttpMetrics::global`].
    pub fn new() -> Self {
        MetricsLayer::with_metrics(HttpMetrics::global().clone())
    }

    /// Records into `metrics` (say, registered in a registry of one's own).
    pub fn with_metrics(metrics: HttpMetrics) -> Self {
        MetricsLayer {
            metrics,
            endpoint: route_template,
        }
    }

    /// Labels requests with `endpoint`'s answer instead: a route template or another
    /// value from a small set, never the raw path.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use promlink::tower::MetricsLayer;
    ///
    /// fn api_version<'a>(uri: &'a http::Uri, _: &'a http::Extensions) -> Option<Cow<'a, str>> {
    ///     let version = if uri.path().starts_with("/v2/") { "v2" } else { "v1" };
    ///     Some(Cow::Borrowed(version))
    /// }
    /// let layer = MetricsLayer::new().endpoint_with(api_version);
    /// ```
    #[must_use]
    pub fn endpoint_with(mut self, endpoint: EndpointFn) -> Self {
        self.endpoint = endpoint;
        self
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        MetricsLayer::new()
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`MetricsLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    layer: MetricsLayer,
}

impl<S, B, ResBody> Service<Request<B>> for MetricsService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let endpoint = (self.layer.endpoint)(request.uri(), request.extensions())
            .map_or(Cow::Borrowed(UNMATCHED), |e| Cow::Owned(e.into_owned()));
        let method = method_label(request.method());
        let metrics = &self.layer.metrics.0;
        let facts = Facts {
            method,
            endpoint: &endpoint,
            status: "",
        };
        let in_flight = metrics
            .in_flight
            .as_ref()
            .map(|in_flight| in_flight.with_values(&facts, LabelledFamily::child_of));
        if let Some(gauge) = &in_flight {
            gauge.inc();
        }
        // The guard exists before the inner call, so that a panic there leaves the gauge too.
        let record = Record {
            metrics: self.layer.metrics.clone(),
            method,
            endpoint,
            in_flight,
            started: Instant::now(),
        };
        ResponseFuture {
            inner: self.inner.call(request),
            record: Some(record),
        }
    }
}

/// What a finished request records; dropped unrecorded, it only leaves the in-flight gauge.
struct Record {
    metrics: HttpMetrics,
    method: &'static str,
    endpoint: Cow<'static, str>,
    in_flight: Option<crate::Child<Gauge>>,
    started: Instant,
}

impl Record {
    fn finish(self, status: StatusCode) {
        let seconds = self.started.elapsed().as_secs_f64();
        let facts = Facts {
            method: self.method,
            endpoint: &self.endpoint,
            status: status.as_str(),
        };
        let metrics = &self.metrics.0;
        metrics.duration.with_values(&facts, |family, values| {
            family.observe(values, seconds);
        });
        metrics.requests.with_values(&facts, |family, values| {
            family.with_child_of(values, &mut Counter::inc_traced);
        });
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if let Some(gauge) = &self.in_flight {
            gauge.dec();
        }
    }
}

pin_project! {
    /// The future of a [`MetricsService`] call.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        record: Option<Record>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(record) = this.record.take() {
            record.finish(
                result
                    .as_ref()
                    .map_or(StatusCode::INTERNAL_SERVER_ERROR, Response::status),
            );
        }
        Poll::Ready(result)
    }
}

/// The method's name when it is one of RFC 9110's or PATCH, else `OTHER`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    const NAMES: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .iter()
        .position(|known| known == method)
        .map_or("OTHER", |i| NAMES[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(
            method_label(&Method::from_bytes(b"PURGE-ME-123").unwrap()),
            "OTHER"
        );
    }
}
