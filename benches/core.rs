//! The hot paths of promlink-core: `cargo bench --bench core`.
//!
//! Each group holds a baseline (a bare atomic, a hand-rolled `format!`) measured in the
//! same run, so ratios survive a noisy machine.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promlink::{Counter, Family, Format, Histogram, Metric, Registry};

static COUNTER: Counter = Counter::new();
static BASELINE: AtomicU64 = AtomicU64::new(0);
static REQUESTS: Family<Counter, 3> = Family::new(["method", "endpoint", "status"], Counter::new());
static LATENCY: Histogram<8> = Histogram::new(&[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
const SAMPLES: [f64; 8] = [0.003, 0.07, 0.3, 0.3, 4.0, 7.0, 0.02, 0.9];

fn counter(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");
    g.bench_function("atomic_fetch_add (baseline)", |b| {
        b.iter(|| BASELINE.fetch_add(1, Ordering::Relaxed));
    });
    g.bench_function("promlink", |b| b.iter(|| black_box(&COUNTER).inc()));
    g.finish();
}

fn labelled(c: &mut Criterion) {
    let mut g = c.benchmark_group("labelled_lookup_inc");
    g.bench_function("promlink labels().inc()", |b| {
        b.iter(|| {
            REQUESTS
                .labels(black_box(("GET", "/api/orders", "200")))
                .inc();
        });
    });
    g.bench_function("promlink with_labels()", |b| {
        b.iter(|| REQUESTS.with_labels(black_box(("GET", "/api/orders", 200_u16)), Counter::inc));
    });
    let kept = REQUESTS.labels(("GET", "/api/orders", "200"));
    g.bench_function("promlink kept child", |b| b.iter(|| black_box(&kept).inc()));
    g.finish();
}

fn histogram(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");
    let mut i = 0;
    g.bench_function("promlink", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES.len();
            LATENCY.observe(black_box(SAMPLES[i]));
        });
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let registry = Registry::new();
    let family = Arc::new(Metric::new(
        "requests_total",
        "Requests.",
        Family::new(["method", "path"], Counter::new()),
    ));
    for i in 0..10_000 {
        family
            .labels(("GET", format!("/api/item/{i}")))
            .inc_by_u64(i);
    }
    registry.register(family).unwrap();
    let mut out = Vec::new();
    registry.encode(Format::Text, &mut out).unwrap();
    let mut g = c.benchmark_group("encode_10k_series");
    g.throughput(Throughput::Bytes(out.len() as u64));
    for format in [Format::Text, Format::OpenMetrics] {
        g.bench_function(format!("{format:?}"), |b| {
            b.iter(|| {
                out.clear();
                registry.encode(format, &mut out).unwrap();
                black_box(out.len())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, counter, labelled, histogram, encode);
criterion_main!(benches);
