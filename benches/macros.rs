//! The cost of the attributes: `cargo bench --bench macros`.
//!
//! `#[counted]` against a bare counter increment, `#[timed]` against hand-written
//! `Instant::now()` + `observe`, each beside an uninstrumented function, in one run.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use promlink::{counted, timed, Counter, Histogram, DEFAULT_BUCKETS};

static CALLS: Counter = Counter::new();
static DURATIONS: Histogram<14> = Histogram::new(&DEFAULT_BUCKETS);

#[inline(never)]
fn plain(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn bare_increment(x: u64) -> u64 {
    CALLS.inc();
    black_box(x)
}

#[counted]
#[inline(never)]
fn counted_plain(x: u64) -> u64 {
    black_box(x)
}

#[counted]
#[inline(never)]
fn counted_result(x: u64) -> Result<u64, ()> {
    Ok(black_box(x))
}

#[inline(never)]
fn hand_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    DURATIONS.observe(start.elapsed().as_secs_f64());
    result
}

#[timed]
#[inline(never)]
fn timed_plain(x: u64) -> u64 {
    black_box(x)
}

fn counted(c: &mut Criterion) {
    let mut g = c.benchmark_group("counted_overhead");
    g.bench_function("uninstrumented", |b| b.iter(|| plain(black_box(1))));
    g.bench_function("bare Counter::inc (baseline)", |b| {
        b.iter(|| bare_increment(black_box(1)));
    });
    g.bench_function("#[counted]", |b| b.iter(|| counted_plain(black_box(1))));
    g.bench_function("#[counted] -> Result", |b| {
        b.iter(|| counted_result(black_box(1)));
    });
    g.finish();
}

fn timed(c: &mut Criterion) {
    let mut g = c.benchmark_group("timed_overhead");
    g.bench_function("uninstrumented", |b| b.iter(|| plain(black_box(1))));
    g.bench_function("Instant::now + observe (baseline)", |b| {
        b.iter(|| hand_timed(black_box(1)));
    });
    g.bench_function("#[timed]", |b| b.iter(|| timed_plain(black_box(1))));
    g.finish();
}

criterion_group!(benches, counted, timed);
criterion_main!(benches);
