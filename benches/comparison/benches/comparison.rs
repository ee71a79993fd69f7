//! promlink beside `prometheus`, `prometheus-client`, `metrics` and `measured`, one
//! criterion group per workload so that ratios hold on a noisy machine:
//! `cargo bench --manifest-path benches/comparison/Cargo.toml`.
//!
//! Every group holds the same workload for every peer; where a bare `AtomicU64` makes a
//! floor, it is in the group too.

#![allow(clippy::many_single_char_names)] // (m, e, s) label values beside c, g, b

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier, LazyLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use promlink::{counted, timed};
use promlink_comparison::promlink_side::{
    Endpoint, Method, Status, PL_CALLS_TOTAL, PL_CALL_SECONDS, PL_CONTENDED_TOTAL,
    PL_ENUM_REQUESTS_TOTAL, PL_EVENTS_TOTAL, PL_LATENCY_SECONDS, PL_REQUESTS_TOTAL,
    PL_SHARDED_TOTAL,
};
use promlink_comparison::{
    client_side, measured_side, metrics_builder, metrics_global, BUCKETS, REQUEST_LABELS,
    REQUEST_VALUES, SAMPLES, TIMED_BUCKETS,
};

type ClientCounter = prometheus_client::metrics::counter::Counter;
type ClientFamily<S, M = ClientCounter, C = fn() -> M> =
    prometheus_client::metrics::family::Family<S, M, C>;
type ClientHistogram = prometheus_client::metrics::histogram::Histogram;

static BASELINE: AtomicU64 = AtomicU64::new(0);

fn prometheus_counter_vec(name: &str) -> prometheus::IntCounterVec {
    prometheus::IntCounterVec::new(prometheus::Opts::new(name, "Requests."), &REQUEST_LABELS)
        .unwrap()
}

fn prometheus_histogram(name: &str, buckets: &[f64]) -> prometheus::Histogram {
    prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new(name, "Latency.").buckets(buckets.to_vec()),
    )
    .unwrap()
}

/// Runs `iters` calls of `f` in chunks, calling `between` untimed after each: the
/// `metrics` exporter appends histogram samples to a list that only its upkeep drains.
fn chunked(iters: u64, mut f: impl FnMut(), between: impl Fn()) -> Duration {
    const CHUNK: u64 = 1 << 20;
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        total += start.elapsed();
        between();
        done += n;
    }
    total
}

// 1. Counter increment, no labels, through a kept handle.
fn counter_inc(c: &mut Criterion) {
    let prom = prometheus::IntCounter::new("events_total", "Events.").unwrap();
    let client = ClientCounter::default();
    metrics_global();
    let metrics = metrics::counter!("events_total");
    let measured = measured::Counter::new();

    let mut g = c.benchmark_group("1_counter_inc");
    g.bench_function("atomic fetch_add (baseline)", |b| {
        b.iter(|| black_box(&BASELINE).fetch_add(1, Relaxed));
    });
    g.bench_function("promlink", |b| b.iter(|| black_box(&PL_EVENTS_TOTAL).inc()));
    g.bench_function("promlink #[metric(sharded)]", |b| {
        b.iter(|| black_box(&PL_SHARDED_TOTAL).inc());
    });
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom).inc()));
    g.bench_function("prometheus-client", |b| {
        b.iter(|| black_box(&client).inc());
    });
    g.bench_function("metrics", |b| b.iter(|| black_box(&metrics).increment(1)));
    g.bench_function("measured", |b| b.iter(|| black_box(&measured).inc()));
    g.finish();
}

// 2. Labelled counter looked up by run-time strings, then incremented.
fn labelled_lookup(c: &mut Criterion) {
    let prom = prometheus_counter_vec("requests_total");
    let client_static = ClientFamily::<client_side::StaticLabels>::default();
    let client_owned = ClientFamily::<client_side::OwnedLabels>::default();
    metrics_global();
    let measured = measured::CounterVec::with_label_set(measured_side::RequestLabelSet::default());

    let mut g = c.benchmark_group("2_labelled_lookup_inc");
    g.bench_function("promlink labels().inc()", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            PL_REQUESTS_TOTAL.labels(m, e, s).inc();
        });
    });
    g.bench_function("promlink with_labels()", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            PL_REQUESTS_TOTAL.with_labels((m, e, s), promlink::Counter::inc);
        });
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            prom.with_label_values(&[m, e, s]).inc();
        });
    });
    g.bench_function("prometheus-client (&'static str labels)", |b| {
        b.iter(|| {
            let (method, endpoint, status) = black_box(REQUEST_VALUES);
            client_static
                .get_or_create(&client_side::StaticLabels {
                    method,
                    endpoint,
                    status,
                })
                .inc();
        });
    });
    g.bench_function("prometheus-client (String labels)", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            client_owned
                .get_or_create(&client_side::OwnedLabels {
                    method: m.to_owned(),
                    endpoint: e.to_owned(),
                    status: s.to_owned(),
                })
                .inc();
        });
    });
    g.bench_function("metrics (&'static str labels)", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            metrics::counter!("requests_total", "method" => m, "endpoint" => e, "status" => s)
                .increment(1);
        });
    });
    g.bench_function("metrics (String labels)", |b| {
        b.iter(|| {
            let (m, e, s) = black_box(REQUEST_VALUES);
            metrics::counter!(
                "requests_total",
                "method" => m.to_owned(),
                "endpoint" => e.to_owned(),
                "status" => s.to_owned()
            )
            .increment(1);
        });
    });
    g.bench_function("measured (lasso ThreadedRodeo sets)", |b| {
        b.iter(|| {
            let (method, endpoint, status) = black_box(REQUEST_VALUES);
            measured.inc(measured_side::RequestLabels {
                method,
                endpoint,
                status,
            });
        });
    });
    g.finish();
}

// 2b. Lookups cycling through 1,000 label sets: more than promlink's per-thread slots
// keep, so every lookup goes to the map (its cost when the slots cannot help).
fn labelled_lookup_many(c: &mut Criterion) {
    const SETS: usize = 1000;
    let endpoints: Vec<String> = (0..SETS).map(|i| format!("/api/item/{i}")).collect();
    let prom = prometheus_counter_vec("requests_total");
    let client_static = ClientFamily::<client_side::OwnedLabels>::default();
    let promlink_family = promlink::Family::new(REQUEST_LABELS, promlink::Counter::new());

    let mut g = c.benchmark_group("2b_lookup_1000_sets_in_turn");
    let mut next = 0;
    let mut endpoint = || {
        next = (next + 1) % SETS;
        black_box(endpoints[next].as_str())
    };
    g.bench_function("promlink labels().inc()", |b| {
        b.iter(|| promlink_family.labels(("GET", endpoint(), "200")).inc());
    });
    g.bench_function("promlink with_labels()", |b| {
        b.iter(|| promlink_family.with_labels(("GET", endpoint(), "200"), promlink::Counter::inc));
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| prom.with_label_values(&["GET", endpoint(), "200"]).inc());
    });
    g.bench_function("prometheus-client (String labels)", |b| {
        b.iter(|| {
            client_static
                .get_or_create(&client_side::OwnedLabels {
                    method: "GET".to_owned(),
                    endpoint: endpoint().to_owned(),
                    status: "200".to_owned(),
                })
                .inc();
        });
    });
    g.finish();
}

// 3. The same with a kept child handle.
fn labelled_kept(c: &mut Criterion) {
    let (method, endpoint, status) = REQUEST_VALUES;
    let pl = PL_REQUESTS_TOTAL.labels(method, endpoint, status);
    let prom =
        prometheus_counter_vec("requests_total").with_label_values(&[method, endpoint, status]);
    let client = ClientFamily::<client_side::StaticLabels>::default()
        .get_or_create(&client_side::StaticLabels {
            method,
            endpoint,
            status,
        })
        .clone();
    metrics_global();
    let metrics = metrics::counter!(
        "requests_total", "method" => method, "endpoint" => endpoint, "status" => status
    );
    let measured = measured::CounterVec::with_label_set(measured_side::RequestLabelSet::default());
    let measured_id = measured.with_labels(measured_side::RequestLabels {
        method,
        endpoint,
        status,
    });

    let mut g = c.benchmark_group("3_labelled_kept_child_inc");
    g.bench_function("atomic fetch_add (baseline)", |b| {
        b.iter(|| black_box(&BASELINE).fetch_add(1, Relaxed));
    });
    g.bench_function("promlink", |b| b.iter(|| black_box(&pl).inc()));
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom).inc()));
    g.bench_function("prometheus-client", |b| {
        b.iter(|| black_box(&client).inc());
    });
    g.bench_function("metrics", |b| b.iter(|| black_box(&metrics).increment(1)));
    g.bench_function("measured (kept LabelId)", |b| {
        b.iter(|| measured.get_metric(black_box(measured_id)).inc());
    });
    g.finish();
}

// 4. Labels with a fixed set of values, as enums.
fn enum_labels(c: &mut Criterion) {
    use client_side::{Endpoint as CE, Method as CM, Status as CS};
    use measured_side::{Endpoint as ME, Method as MM, Status as MS};

    let prom = prometheus_counter_vec("enum_requests_total");
    let client = ClientFamily::<client_side::EnumLabels>::default();
    metrics_global();
    let measured = measured::CounterVec::with_label_set(measured_side::EnumLabelSet::default());

    let mut g = c.benchmark_group("4_enum_labels_inc");
    g.bench_function("promlink unlabelled inc (reference)", |b| {
        b.iter(|| black_box(&PL_EVENTS_TOTAL).inc());
    });
    g.bench_function("promlink DenseFamily", |b| {
        b.iter(|| {
            let (m, e, s) = black_box((Method::Get, Endpoint::Orders, Status::Ok));
            PL_ENUM_REQUESTS_TOTAL.labels(m, e, s).inc();
        });
    });
    g.bench_function("prometheus (&'static str)", |b| {
        b.iter(|| {
            let (m, e, s) = black_box((CM::Get, CE::Orders, CS::Ok));
            prom.with_label_values(&[m.as_str(), e.as_str(), s.as_str()])
                .inc();
        });
    });
    g.bench_function("prometheus-client (EncodeLabelSet enums)", |b| {
        b.iter(|| {
            let (method, endpoint, status) = black_box((CM::Get, CE::Orders, CS::Ok));
            client
                .get_or_create(&client_side::EnumLabels {
                    method,
                    endpoint,
                    status,
                })
                .inc();
        });
    });
    g.bench_function("metrics (&'static str)", |b| {
        b.iter(|| {
            let (m, e, s) = black_box((CM::Get, CE::Orders, CS::Ok));
            metrics::counter!(
                "enum_requests_total",
                "method" => m.as_str(),
                "endpoint" => e.as_str(),
                "status" => s.as_str()
            )
            .increment(1);
        });
    });
    g.bench_function("measured (FixedCardinality, dense)", |b| {
        b.iter(|| {
            let (method, endpoint, status) = black_box((MM::Get, ME::Orders, MS::Ok));
            measured.inc(measured_side::EnumLabels {
                method,
                endpoint,
                status,
            });
        });
    });
    g.finish();
}

// 5. Histogram observe.
fn histogram_observe(c: &mut Criterion) {
    let prom = prometheus_histogram("latency_seconds", &BUCKETS);
    let client = ClientHistogram::new(BUCKETS);
    let handle = metrics_global();
    let metrics = metrics::histogram!("latency_seconds");
    let measured = measured::Histogram::<8>::with_metadata(
        measured::metric::histogram::Thresholds::with_buckets(BUCKETS),
    );

    let mut g = c.benchmark_group("5_histogram_observe");
    let mut i = 0;
    let mut next = move || {
        i = (i + 1) % SAMPLES.len();
        black_box(SAMPLES[i])
    };
    g.bench_function("promlink", |b| {
        b.iter(|| PL_LATENCY_SECONDS.observe(next()));
    });
    g.bench_function("prometheus", |b| b.iter(|| prom.observe(next())));
    g.bench_function("prometheus-client", |b| b.iter(|| client.observe(next())));
    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| chunked(iters, || metrics.record(next()), || handle.run_upkeep()));
    });
    g.bench_function("measured", |b| b.iter(|| measured.observe(next())));
    g.finish();
}

// 5b. Exemplars: a counter increment and a histogram observation with and without one,
// the trace ids drawn in turn from 64 (as a sampled trace's would come). prometheus-client
// takes its exemplar's labels as an owned label set, so a `String` is cloned in each call.
fn exemplars(c: &mut Criterion) {
    use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
    let traces: &[String] = Vec::leak(
        (0..64_u128)
            .map(|i| format!("{:032x}", i * 0x9e37_79b9_7f4a_7c15))
            .collect(),
    );
    let counter = promlink::Counter::new();
    let histogram = promlink::Histogram::new(&BUCKETS);
    let client_counter = CounterWithExemplar::<client_side::TraceLabel>::default();
    let client_histogram =
        HistogramWithExemplars::<client_side::TraceLabel>::new(BUCKETS.into_iter());

    let mut g = c.benchmark_group("5b_exemplars");
    let mut i = 0;
    let mut next = move || {
        i = (i + 1) % SAMPLES.len();
        (black_box(SAMPLES[i]), traces[i % traces.len()].as_str())
    };
    g.bench_function("promlink counter inc", |b| b.iter(|| counter.inc()));
    g.bench_function("promlink counter inc_with_exemplar", |b| {
        b.iter(|| counter.inc_with_exemplar(&[("trace_id", next().1)]));
    });
    g.bench_function("prometheus-client counter inc_by(1, None)", |b| {
        b.iter(|| client_counter.inc_by(1, None, None));
    });
    g.bench_function("prometheus-client counter inc_by(1, Some(trace))", |b| {
        b.iter(|| {
            let trace_id = next().1.to_owned();
            client_counter.inc_by(1, Some(client_side::TraceLabel { trace_id }), None)
        });
    });
    g.bench_function("promlink histogram observe", |b| {
        b.iter(|| histogram.observe(next().0));
    });
    g.bench_function("promlink histogram observe_with_exemplar", |b| {
        b.iter(|| {
            let (value, trace) = next();
            histogram.observe_with_exemplar(value, &[("trace_id", trace)])
        });
    });
    g.bench_function("prometheus-client histogram observe(v, None)", |b| {
        b.iter(|| client_histogram.observe(next().0, None, None));
    });
    g.bench_function("prometheus-client histogram observe(v, Some(trace))", |b| {
        b.iter(|| {
            let (value, trace) = next();
            let trace_id = trace.to_owned();
            client_histogram.observe(value, Some(client_side::TraceLabel { trace_id }), None);
        });
    });
    g.finish();
}

/// 4,096 latencies of a service, log-normal around 50 ms (most from 5 ms to 0.5 s, a tail
/// to seconds), so that observations land in many native buckets, not in one.
fn latencies() -> &'static [f64] {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        #[allow(clippy::cast_precision_loss)] // 53 bits
        let u = (x >> 11) as f64 / (1_u64 << 53) as f64;
        u.max(f64::MIN_POSITIVE)
    };
    Vec::leak(
        (0..4096)
            .map(|_| {
                // Box-Muller: a normal deviate, then e^(ln 0.05 + sigma z).
                let z = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                (0.05_f64.ln() + 1.2 * z).exp()
            })
            .collect(),
    )
}

// 5c. Native buckets against classic ones, on latencies spread over many buckets: alone,
// and beside the classic buckets in one histogram (as the quickstart declares it).
fn native_observe(c: &mut Criterion) {
    use prometheus_client::metrics::histogram::NativeHistogramConfig;
    let values = latencies();
    let classic = promlink::Histogram::new(&BUCKETS);
    let native = promlink::Histogram::native(promlink::NativeBuckets::schema(3));
    let dual = promlink::Histogram::new(&BUCKETS).with_native(promlink::NativeBuckets::schema(3));
    let client_classic = ClientHistogram::new(BUCKETS);
    let client_native = ClientHistogram::new_native(NativeHistogramConfig::with_schema(3));
    let client_dual =
        ClientHistogram::new_classic_and_native(BUCKETS, NativeHistogramConfig::with_schema(3));

    let mut g = c.benchmark_group("5c_native_observe");
    let mut i = 0;
    let mut next = move || {
        i = (i + 1) % values.len();
        black_box(values[i])
    };
    g.bench_function("promlink classic", |b| b.iter(|| classic.observe(next())));
    g.bench_function("promlink native", |b| b.iter(|| native.observe(next())));
    g.bench_function("promlink classic+native", |b| {
        b.iter(|| dual.observe(next()));
    });
    g.bench_function("prometheus-client classic", |b| {
        b.iter(|| client_classic.observe(next()));
    });
    g.bench_function("prometheus-client native", |b| {
        b.iter(|| client_native.observe(next()));
    });
    g.bench_function("prometheus-client classic+native", |b| {
        b.iter(|| client_dual.observe(next()));
    });
    g.finish();
}

// 5d. Summary observe: count and sum, and quantiles over a window, on the same latencies.
// `metrics`' exporter writes a histogram without buckets as a summary: its `record`
// appends the value to a list that its upkeep folds into the quantile sketch, so it is
// timed with and without the upkeep.
fn summary_observe(c: &mut Criterion) {
    static PLAIN: promlink::Summary = promlink::Summary::new();
    static QUANTILES: promlink::Summary =
        promlink::Summary::new().with_quantiles(&[0.5, 0.9, 0.99]);
    let values = latencies();
    let handle = metrics_global();
    let metrics = metrics::histogram!("rpc_summary_seconds");

    let mut g = c.benchmark_group("5d_summary_observe");
    let mut i = 0;
    let mut next = move || {
        i = (i + 1) % values.len();
        black_box(values[i])
    };
    g.bench_function("promlink count and sum", |b| {
        b.iter(|| PLAIN.observe(next()));
    });
    g.bench_function("promlink quantiles", |b| {
        b.iter(|| QUANTILES.observe(next()));
    });
    g.bench_function("metrics summary (upkeep untimed)", |b| {
        b.iter_custom(|iters| chunked(iters, || metrics.record(next()), || handle.run_upkeep()));
    });
    g.bench_function("metrics summary (upkeep timed)", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            chunked(iters, || metrics.record(next()), || handle.run_upkeep());
            start.elapsed()
        });
    });
    g.finish();
}

const ENCODE_COUNTERS: u64 = 10_000;
const ENCODE_HISTOGRAMS: u64 = 100;

// 6. Encoding 10,000 counter series and 100 histogram series to text.
#[allow(clippy::too_many_lines)]
fn encode(c: &mut Criterion) {
    let path = |i: u64| format!("/api/item/{i}");

    // promlink
    let registry = promlink::Registry::new();
    let counters = Arc::new(promlink::Metric::new(
        "requests_total",
        "Requests.",
        promlink::Family::new(["method", "path"], promlink::Counter::new()),
    ));
    let histograms = Arc::new(promlink::Metric::new(
        "latency_seconds",
        "Latency.",
        promlink::Family::new(["path"], promlink::Histogram::new(&BUCKETS)),
    ));
    for i in 0..ENCODE_COUNTERS {
        counters.labels(("GET", path(i))).inc_by_u64(i);
    }
    for i in 0..ENCODE_HISTOGRAMS {
        let h = histograms.labels([path(i)]);
        for v in SAMPLES {
            h.observe(v);
        }
    }
    registry.register(counters).unwrap();
    registry.register(histograms).unwrap();

    // prometheus
    let prom_registry = prometheus::Registry::new();
    let prom_counters = prometheus::IntCounterVec::new(
        prometheus::Opts::new("requests_total", "Requests."),
        &["method", "path"],
    )
    .unwrap();
    let prom_histograms = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("latency_seconds", "Latency.").buckets(BUCKETS.to_vec()),
        &["path"],
    )
    .unwrap();
    for i in 0..ENCODE_COUNTERS {
        prom_counters
            .with_label_values(&["GET", &path(i)])
            .inc_by(i);
    }
    for i in 0..ENCODE_HISTOGRAMS {
        let h = prom_histograms.with_label_values(&[path(i)]);
        for v in SAMPLES {
            h.observe(v);
        }
    }
    prom_registry.register(Box::new(prom_counters)).unwrap();
    prom_registry.register(Box::new(prom_histograms)).unwrap();

    // prometheus-client
    let mut client_registry = prometheus_client::registry::Registry::default();
    let client_counters = ClientFamily::<client_side::MethodPath>::default();
    let client_histograms = ClientFamily::<
        client_side::PathOnly,
        ClientHistogram,
        fn() -> ClientHistogram,
    >::new_with_constructor(|| ClientHistogram::new(BUCKETS));
    for i in 0..ENCODE_COUNTERS {
        client_counters
            .get_or_create(&client_side::MethodPath {
                method: "GET",
                path: path(i),
            })
            .inc_by(i);
    }
    for i in 0..ENCODE_HISTOGRAMS {
        let h = client_histograms.get_or_create(&client_side::PathOnly { path: path(i) });
        for v in SAMPLES {
            h.observe(v);
        }
    }
    client_registry.register("requests", "Requests.", client_counters);
    client_registry.register("latency_seconds", "Latency.", client_histograms);

    // metrics
    let recorder = metrics_builder().build_recorder();
    let metrics_handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("requests_total", "Requests.");
        metrics::describe_histogram!("latency_seconds", "Latency.");
        for i in 0..ENCODE_COUNTERS {
            metrics::counter!("requests_total", "method" => "GET", "path" => path(i)).increment(i);
        }
        for i in 0..ENCODE_HISTOGRAMS {
            let h = metrics::histogram!("latency_seconds", "path" => path(i));
            for v in SAMPLES {
                h.record(v);
            }
        }
    });

    // measured
    let measured = measured_side::EncodeGroup {
        requests_total: measured::CounterVec::with_label_set(
            measured_side::MethodPathLabelSet::default(),
        ),
        latency_seconds: measured::HistogramVec::with_label_set_and_metadata(
            measured_side::PathLabelSet::default(),
            measured::metric::histogram::Thresholds::with_buckets(BUCKETS),
        ),
    };
    for i in 0..ENCODE_COUNTERS {
        let path = path(i);
        measured.requests_total.inc_by(
            measured_side::MethodPathLabels {
                method: "GET",
                path: &path,
            },
            i,
        );
    }
    for i in 0..ENCODE_HISTOGRAMS {
        let path = path(i);
        for &v in &SAMPLES {
            measured
                .latency_seconds
                .observe(measured_side::PathLabels { path: &path }, v);
        }
    }

    let mut out = Vec::new();
    let mut text = String::new();
    let mut measured_encoder = measured::text::BufferedTextEncoder::new();
    let promlink_encode = |out: &mut Vec<u8>| {
        out.clear();
        registry.encode(promlink::Format::Text, out).unwrap();
        out.len()
    };
    let prometheus_encode = |out: &mut Vec<u8>| {
        use prometheus::Encoder;
        out.clear();
        prometheus::TextEncoder::new()
            .encode(&prom_registry.gather(), out)
            .unwrap();
        out.len()
    };
    let client_encode = |text: &mut String| {
        text.clear();
        prometheus_client::encoding::text::encode(text, &client_registry).unwrap();
        text.len()
    };
    let metrics_encode = |out: &mut Vec<u8>| {
        out.clear();
        metrics_handle.render_to_write(out).unwrap();
        out.len()
    };
    let mut measured_encode = || {
        use measured::MetricGroup;
        measured.collect_group_into(&mut measured_encoder).unwrap();
        measured_encoder.finish().len()
    };

    let sizes = [
        ("promlink", promlink_encode(&mut out)),
        ("prometheus", prometheus_encode(&mut out)),
        ("prometheus-client", client_encode(&mut text)),
        ("metrics", metrics_encode(&mut out)),
        ("measured", measured_encode()),
    ];
    for (peer, size) in sizes {
        println!("encode output: {peer} writes {size} bytes");
    }
    let size = |peer: &str| Throughput::Bytes(sizes.iter().find(|s| s.0 == peer).unwrap().1 as u64);

    let mut g = c.benchmark_group("6_encode_10k_counters_100_histograms");
    g.sample_size(20); // the slowest peers take over 10 ms a scrape
    g.throughput(size("promlink"));
    g.bench_function("promlink", |b| b.iter(|| promlink_encode(&mut out)));
    g.throughput(size("prometheus"));
    g.bench_function("prometheus", |b| b.iter(|| prometheus_encode(&mut out)));
    g.throughput(size("prometheus-client"));
    g.bench_function("prometheus-client", |b| b.iter(|| client_encode(&mut text)));
    g.throughput(size("metrics"));
    g.bench_function("metrics", |b| b.iter(|| metrics_encode(&mut out)));
    g.throughput(size("measured"));
    g.bench_function("measured", |b| b.iter(&mut measured_encode));
    g.finish();
}

const PER_THREAD: u64 = 1_000_000;

/// Two threads incrementing through `inc` `PER_THREAD` times each, started together by a
/// barrier; `iters` such runs, timed from the barrier to the join.
fn two_threads(iters: u64, inc: &(dyn Fn() + Sync)) -> Duration {
    // Each thread on a core of its own: left to the scheduler, both sometimes share one
    // core for a sample, take turns instead of contending, and the plain counters' rows
    // swing between about 5 and 35 ms from run to run.
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let barrier = Barrier::new(3);
        let start = std::thread::scope(|s| {
            for thread in 0..2 {
                let core = cores.get(thread).copied();
                let barrier = &barrier;
                s.spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    barrier.wait();
                    for _ in 0..PER_THREAD {
                        inc();
                    }
                });
            }
            barrier.wait();
            Instant::now()
        });
        total += start.elapsed();
    }
    total
}

// 7. Two threads incrementing one counter a million times each.
fn contended(c: &mut Criterion) {
    let prom = prometheus::IntCounter::new("contended_total", "Contended.").unwrap();
    let client = ClientCounter::default();
    metrics_global();
    let metrics = metrics::counter!("contended_total");
    let measured = measured::Counter::new();
    let baseline = AtomicU64::new(0);

    let mut g = c.benchmark_group("7_two_threads_1M_inc_each");
    g.sample_size(10);
    g.throughput(Throughput::Elements(2 * PER_THREAD));
    g.bench_function("atomic fetch_add (baseline)", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                black_box(&baseline).fetch_add(1, Relaxed);
            })
        });
    });
    g.bench_function("promlink", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&PL_CONTENDED_TOTAL).inc()));
    });
    g.bench_function("promlink #[metric(sharded)]", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&PL_SHARDED_TOTAL).inc()));
    });
    g.bench_function("prometheus", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&prom).inc()));
    });
    g.bench_function("prometheus-client", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                black_box(&client).inc();
            })
        });
    });
    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&metrics).increment(1)));
    });
    g.bench_function("measured", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&measured).inc()));
    });
    g.finish();
}

// 8. `#[counted]` and `#[timed]` against hand-written instrumentation.

static PROM_CALLS: LazyLock<prometheus::IntCounter> =
    LazyLock::new(|| prometheus::IntCounter::new("calls_total", "Calls.").unwrap());
static CLIENT_CALLS: LazyLock<ClientCounter> = LazyLock::new(ClientCounter::default);
static METRICS_CALLS: LazyLock<metrics::Counter> = LazyLock::new(|| {
    metrics_global();
    metrics::counter!("calls_total")
});
static MEASURED_CALLS: LazyLock<measured::Counter> = LazyLock::new(measured::Counter::new);

static PROM_SECONDS: LazyLock<prometheus::Histogram> =
    LazyLock::new(|| prometheus_histogram("call_seconds", &TIMED_BUCKETS));
static CLIENT_SECONDS: LazyLock<ClientHistogram> =
    LazyLock::new(|| ClientHistogram::new(TIMED_BUCKETS));
static METRICS_SECONDS: LazyLock<metrics::Histogram> = LazyLock::new(|| {
    metrics_global();
    metrics::histogram!("function_duration_seconds")
});
static MEASURED_SECONDS: LazyLock<measured::Histogram<14>> = LazyLock::new(|| {
    measured::Histogram::with_metadata(measured::metric::histogram::Thresholds::with_buckets(
        TIMED_BUCKETS,
    ))
});

/// A function under test: a tiny body, instrumented or not.
type Instrumented = fn(u64) -> u64;

#[inline(never)]
fn plain(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn atomic_inc(x: u64) -> u64 {
    BASELINE.fetch_add(1, Relaxed);
    black_box(x)
}

#[inline(never)]
fn promlink_inc(x: u64) -> u64 {
    PL_CALLS_TOTAL.inc();
    black_box(x)
}

#[counted]
#[inline(never)]
fn promlink_counted(x: u64) -> u64 {
    black_box(x)
}

#[counted]
#[inline(never)]
fn promlink_counted_result(x: u64) -> Result<u64, ()> {
    Ok(black_box(x))
}

#[counted(PL_CALLS_TOTAL)]
#[inline(never)]
fn promlink_counted_into(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn prometheus_inc(x: u64) -> u64 {
    PROM_CALLS.inc();
    black_box(x)
}

#[inline(never)]
fn client_inc(x: u64) -> u64 {
    CLIENT_CALLS.inc();
    black_box(x)
}

#[inline(never)]
fn metrics_inc(x: u64) -> u64 {
    METRICS_CALLS.increment(1);
    black_box(x)
}

#[inline(never)]
fn metrics_macro_inc(x: u64) -> u64 {
    metrics::counter!("calls_total").increment(1);
    black_box(x)
}

#[inline(never)]
fn measured_inc(x: u64) -> u64 {
    MEASURED_CALLS.inc();
    black_box(x)
}

fn counted_overhead(c: &mut Criterion) {
    LazyLock::force(&METRICS_CALLS);
    let mut g = c.benchmark_group("8a_counted_overhead");
    let fns: [(&str, Instrumented); 10] = [
        ("uninstrumented", plain),
        ("atomic fetch_add (baseline)", atomic_inc),
        ("promlink bare Counter::inc", promlink_inc),
        ("promlink #[counted]", promlink_counted),
        ("promlink #[counted] -> Result", |x| {
            promlink_counted_result(x).unwrap_or_default()
        }),
        ("promlink #[counted(COUNTER)]", promlink_counted_into),
        ("prometheus hand-written", prometheus_inc),
        ("prometheus-client hand-written", client_inc),
        ("metrics hand-written (kept handle)", metrics_inc),
        (
            "metrics hand-written (counter! per call)",
            metrics_macro_inc,
        ),
    ];
    for (name, f) in fns {
        g.bench_function(name, |b| b.iter(|| f(black_box(1))));
    }
    g.bench_function("measured hand-written", |b| {
        b.iter(|| measured_inc(black_box(1)));
    });
    g.finish();
}

#[inline(never)]
fn promlink_hand_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    PL_CALL_SECONDS.observe(start.elapsed().as_secs_f64());
    result
}

#[timed]
#[inline(never)]
fn promlink_timed(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn prometheus_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    PROM_SECONDS.observe(start.elapsed().as_secs_f64());
    result
}

#[inline(never)]
fn client_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    CLIENT_SECONDS.observe(start.elapsed().as_secs_f64());
    result
}

#[inline(never)]
fn metrics_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    METRICS_SECONDS.record(start.elapsed());
    result
}

#[inline(never)]
fn measured_timed(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x);
    MEASURED_SECONDS.observe(start.elapsed().as_secs_f64());
    result
}

fn timed_overhead(c: &mut Criterion) {
    LazyLock::force(&METRICS_SECONDS);
    let handle = metrics_global();
    let mut g = c.benchmark_group("8b_timed_overhead");
    let fns: [(&str, Instrumented); 6] = [
        ("uninstrumented", plain),
        (
            "promlink hand-written Instant + observe",
            promlink_hand_timed,
        ),
        ("promlink #[timed]", promlink_timed),
        ("prometheus hand-written", prometheus_timed),
        ("prometheus-client hand-written", client_timed),
        ("measured hand-written", measured_timed),
    ];
    for (name, f) in fns {
        g.bench_function(name, |b| b.iter(|| f(black_box(1))));
    }
    g.bench_function(BenchmarkId::from_parameter("metrics hand-written"), |b| {
        b.iter_custom(|iters| {
            chunked(
                iters,
                || {
                    metrics_timed(black_box(1));
                },
                || handle.run_upkeep(),
            )
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    counter_inc,
    labelled_lookup,
    labelled_lookup_many,
    labelled_kept,
    enum_labels,
    histogram_observe,
    exemplars,
    native_observe,
    summary_observe,
    encode,
    contended,
    counted_overhead,
    timed_overhead
);
criterion_main!(benches);
