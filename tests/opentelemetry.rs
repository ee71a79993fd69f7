//! The `opentelemetry` feature: with nothing but the feature turned on, `#[counted]`,
//! `#[timed]` and the request metrics layer attach the current span's `trace_id` and
//! `span_id` when the span is sampled (by OpenTelemetry's own SDK, directly and through
//! `tracing-opentelemetry`), and nothing for an unsampled span or none.

use std::convert::Infallible;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanContext, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use promlink::tower::{HttpMetrics, MetricsLayer, RouteTemplate};
use promlink::{counted, timed, Format, Registry};
use tower::{Layer, ServiceExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// A call the test traces.
#[counted]
#[timed(buckets = [0.1, 1.0])]
fn charge() -> u32 {
    7
}

/// Another, traced through `tracing`'s own attribute.
#[counted]
#[tracing::instrument]
fn refund() {}

fn tracer(sampler: Sampler) -> opentelemetry_sdk::trace::SdkTracer {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .build()
        .tracer("promlink-test")
}

/// The exemplar labels a span context should give, as OpenMetrics writes them.
fn exemplar_of(span: &SpanContext) -> String {
    format!(
        "# {{trace_id=\"{}\",span_id=\"{}\"}}",
        span.trace_id(),
        span.span_id()
    )
}

/// The lines of `text` about `function`'s series, but its `_created` ones.
fn lines_of<'a>(text: &'a str, function: &str) -> Vec<&'a str> {
    let label = format!("function=\"{function}\"");
    text.lines()
        .filter(|l| l.contains(&label) && !l.contains("_created"))
        .collect()
}

fn openmetrics() -> String {
    Registry::global().encode_to_string(Format::OpenMetrics)
}

// One test: the process-wide "a scrape asked for exemplars" switch is part of what it
// shows.
#[tokio::test]
async fn sampled_spans_become_exemplars() {
    let sampled = tracer(Sampler::AlwaysOn);
    let unsampled = tracer(Sampler::AlwaysOff);

    // Before any scrape asked for OpenMetrics: a sampled span adds no exemplar.
    sampled.in_span("charge", |_| charge());
    let text = openmetrics();
    assert!(
        lines_of(&text, "charge")
            .iter()
            .all(|l| !l.contains(" # {")),
        "{text}"
    );

    // After it: the counter of the outcome and the duration bucket carry the span.
    let span = sampled.in_span("charge", |cx| {
        charge();
        cx.span().span_context().clone()
    });
    assert!(span.is_sampled() && span.is_valid());
    let text = openmetrics();
    let exemplar = exemplar_of(&span);
    // 63 of the 128 characters an exemplar's label names and values may have.
    assert_eq!(span.trace_id().to_string().len(), 32);
    assert_eq!(span.span_id().to_string().len(), 16);
    let lines = lines_of(&text, "charge");
    let carries = |prefix: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && l.contains(&exemplar))
    };
    assert!(carries("function_calls_total{"), "{text}");
    assert!(carries("function_duration_seconds_bucket{"), "{text}");

    // An unsampled span and no span add none: the sampled one stays the latest.
    unsampled.in_span("charge", |cx| {
        assert!(!cx.span().span_context().is_sampled());
        charge();
    });
    charge();
    let text = openmetrics();
    let with_exemplars: Vec<_> = lines_of(&text, "charge")
        .into_iter()
        .filter(|l| l.contains(" # {"))
        .collect();
    assert_eq!(with_exemplars.len(), 2, "{text}");
    assert!(
        with_exemplars.iter().all(|l| l.contains(&exemplar)),
        "{text}"
    );
    let calls = Registry::global().get_sample_value(
        "function_calls_total",
        &[
            ("function", "charge"),
            ("module", module_path!()),
            ("result", "ok"),
        ],
    );
    assert_eq!(calls, Some(4.0), "every call counted, traced or not");

    // Through `tracing`: tracing-opentelemetry activates the span's context on entry.
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(sampled));
    let span = tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("request");
        let _entered = outer.enter();
        refund();
        outer.context().span().span_context().trace_id()
    });
    let text = openmetrics();
    let refunds = lines_of(&text, "refund");
    assert!(
        refunds
            .iter()
            .any(|l| l.starts_with("function_calls_total{")
                && l.contains(&format!("# {{trace_id=\"{span}\",span_id=\""))),
        "{text}"
    );

    the_layer_takes_the_span_it_is_polled_in(&unsampled).await;
}

/// The request metrics layer, polled in a sampled span's context and in an unsampled
/// one's.
async fn the_layer_takes_the_span_it_is_polled_in(unsampled: &opentelemetry_sdk::trace::SdkTracer) {
    let registry = Registry::new();
    let service = MetricsLayer::with_metrics(HttpMetrics::register(&registry).unwrap()).layer(
        tower::service_fn(|_: axum::http::Request<()>| async {
            Ok::<_, Infallible>(axum::http::Response::new(()))
        }),
    );
    let request = || {
        let mut request = axum::http::Request::get("/orders/7").body(()).unwrap();
        request
            .extensions_mut()
            .insert(RouteTemplate::new("/orders/{id}"));
        request
    };
    let span = sampled_span_context(&tracer(Sampler::AlwaysOn));
    let in_span = Context::new().with_remote_span_context(span.clone());
    service
        .clone()
        .oneshot(request())
        .with_context(in_span)
        .await
        .unwrap();
    let unsampled_span = unsampled.start("untraced");
    let untraced = Context::new().with_span(unsampled_span);
    service
        .oneshot(request())
        .with_context(untraced)
        .await
        .unwrap();
    let text = registry.encode_to_string(Format::OpenMetrics);
    let exemplar = exemplar_of(&span);
    let request_lines: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("http_server_requests_total{"))
        .collect();
    assert_eq!(request_lines.len(), 1, "{text}");
    assert!(request_lines[0].contains(" 2.0 # {"), "{text}");
    assert!(request_lines[0].contains(&exemplar), "{text}");
    assert!(
        text.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_bucket{")
                && l.contains(&exemplar)
        ),
        "{text}"
    );
}

/// The context of a sampled span `tracer` starts (and ends at once).
fn sampled_span_context(tracer: &opentelemetry_sdk::trace::SdkTracer) -> SpanContext {
    tracer.in_span("request", |cx| cx.span().span_context().clone())
}
