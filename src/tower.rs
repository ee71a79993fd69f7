//! Request metrics for any [tower](https://docs.rs/tower) service over `http` types:
//! [`MetricsLayer`] records, per request,
//!
//! - `http_requests_total{method, endpoint, status}` (counter),
//! - `http_request_duration_seconds{method, endpoint}` (histogram, Python's default
//!   buckets; the time until the response's head is ready),
//! - `http_requests_in_flight{method, endpoint}` (gauge).
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
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Extensions, Method, Request, Response, Uri};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    Collect, Counter, DefaultHistogram, Family, Gauge, Metric, RegistrationError, Registry,
};

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

/// The three request families [`MetricsLayer`] records into.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Arc<Metric<Family<Counter, 3>>>,
    duration: Arc<Metric<Family<DefaultHistogram, 2>>>,
    in_flight: Arc<Metric<Family<Gauge, 2>>>,
}

impl HttpMetrics {
    /// Creates the families and registers them in `registry`.
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
    /// # Ok::<(), promlink::RegistrationError>(())
    /// ```
    pub fn register(registry: &Registry) -> Result<Self, RegistrationError> {
        let metrics = HttpMetrics {
            requests: Arc::new(Metric::new(
                "http_requests_total",
                "Total HTTP requests.",
                Family::new(["method", "endpoint", "status"], Counter::new()),
            )),
            duration: Arc::new(
                Metric::new(
                    "http_request_duration_seconds",
                    "HTTP request duration in seconds, until the response head.",
                    Family::new(
                        ["method", "endpoint"],
                        DefaultHistogram::with_default_buckets(),
                    ),
                )
                .with_unit("seconds"),
            ),
            in_flight: Arc::new(Metric::new(
                "http_requests_in_flight",
                "HTTP requests being served.",
                Family::new(["method", "endpoint"], Gauge::new()),
            )),
        };
        let families: [Arc<dyn Collect>; 3] = [
            metrics.requests.clone(),
            metrics.duration.clone(),
            metrics.in_flight.clone(),
        ];
        for (registered, family) in families.iter().enumerate() {
            if let Err(e) = registry.register(family.clone()) {
                // All three or none.
                for earlier in &families[..registered] {
                    registry.unregister(earlier);
                }
                return Err(e);
            }
        }
        Ok(metrics)
    }

    /// The families in the global registry, registered on first use.
    ///
    /// # Panics
    ///
    /// When the global registry already has a family of one of these names that is not
    /// this one (say, a `declare_metrics!` of `http_requests_total`): use
    /// [`HttpMetrics::register`] with a registry of its own then.
    pub fn global() -> &'static HttpMetrics {
        static GLOBAL: OnceLock<HttpMetrics> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            HttpMetrics::register(Registry::global()).unwrap_or_else(|e| {
                panic!("promlink: the HTTP request metrics cannot be registered: {e}")
            })
        })
    }
}

/// A tower [`Layer`] recording request metrics; see the [module](self) for what it records.
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
        let in_flight = self.layer.metrics.in_flight.labels((method, &*endpoint));
        in_flight.inc();
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
    in_flight: crate::Child<Gauge>,
    started: Instant,
}

impl Record {
    fn finish(self, status: u16) {
        let seconds = self.started.elapsed().as_secs_f64();
        let labels = (self.method, &*self.endpoint);
        self.metrics
            .duration
            .with_labels(labels, |histogram| histogram.observe(seconds));
        self.metrics
            .requests
            .with_labels((self.method, &*self.endpoint, status), Counter::inc);
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        self.in_flight.dec();
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
            record.finish(result.as_ref().map_or(500, |r| r.status().as_u16()));
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
