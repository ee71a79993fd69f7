//! What the `opentelemetry` feature costs an instrumented call: a `#[counted]` and
//! `#[timed]` function before any scrape asked for exemplars, then with no span, an
//! unsampled span and a sampled one, beside `prometheus-client` taking the same exemplar
//! by hand: `cargo bench --manifest-path benches/comparison/Cargo.toml --features otel
//! --bench exemplar_source`.
//!
//! Its own binary: whether a scrape has asked for exemplars is process-wide and never
//! forgotten, so the cases run in the order they are written.

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use promlink::{counted, timed, Format, Registry};
use promlink_comparison::TIMED_BUCKETS;

/// The exemplar labels `prometheus-client` takes: owned strings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SpanLabels {
    trace_id: String,
    span_id: String,
}

static CLIENT_CALLS: LazyLock<CounterWithExemplar<SpanLabels>> =
    LazyLock::new(CounterWithExemplar::default);
static CLIENT_SECONDS: LazyLock<HistogramWithExemplars<SpanLabels>> =
    LazyLock::new(|| HistogramWithExemplars::new(TIMED_BUCKETS.into_iter()));

#[counted]
#[timed]
#[inline(never)]
fn promlink_traced(x: u64) -> u64 {
    black_box(x)
}

/// What a `prometheus-client` user writes for the same: the call's duration and count,
/// each with the current sampled span's ids.
#[inline(never)]
fn client_traced(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    let exemplar = Context::map_current(|cx| {
        let span = cx.span();
        let span = span.span_context();
        span.is_sampled().then(|| SpanLabels {
            trace_id: span.trace_id().to_string(),
            span_id: span.span_id().to_string(),
        })
    });
    CLIENT_SECONDS.observe(start.elapsed().as_secs_f64(), exemplar.clone(), None);
    CLIENT_CALLS.inc_by(1, exemplar, None);
    result
}

/// A span context as a propagated trace gives it.
fn span(flags: TraceFlags) -> Context {
    let span = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        flags,
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(span)
}

fn traced_call(c: &mut Criterion) {
    LazyLock::force(&CLIENT_CALLS);
    LazyLock::force(&CLIENT_SECONDS);
    let mut g = c.benchmark_group("8c_traced_call");
    {
        let _sampled = span(TraceFlags::SAMPLED).attach();
        g.bench_function("promlink, sampled span, no OpenMetrics scrape yet", |b| {
            b.iter(|| promlink_traced(black_box(1)));
        });
    }
    Registry::global().encode_to_string(Format::OpenMetrics);
    g.bench_function("promlink, no span", |b| {
        b.iter(|| promlink_traced(black_box(1)));
    });
    {
        let _unsampled = span(TraceFlags::NOT_SAMPLED).attach();
        g.bench_function("promlink, unsampled span", |b| {
            b.iter(|| promlink_traced(black_box(1)));
        });
        g.bench_function("prometheus-client hand-written, unsampled span", |b| {
            b.iter(|| client_traced(black_box(1)));
        });
    }
    {
        let _sampled = span(TraceFlags::SAMPLED).attach();
        g.bench_function("promlink, sampled span: exemplars taken", |b| {
            b.iter(|| promlink_traced(black_box(1)));
        });
        g.bench_function("prometheus-client hand-written, sampled span", |b| {
            b.iter(|| client_traced(black_box(1)));
        });
    }
    g.finish();
    let text = Registry::global().encode_to_string(Format::OpenMetrics);
    assert!(
        text.contains("trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        "the sampled case took exemplars"
    );
}

criterion_group!(benches, traced_call);
criterion_main!(benches);
