//! The workloads of a real service, for promlink and its peers: a request mix over 1,200
//! label sets drawn Zipf(1.1), on one thread and on two; 10,000 label sets in shuffled
//! order; 100,000 new series in a fresh family; a scrape of 100,000 counter and 1,000
//! histogram series, alone and while a thread updates.
//!
//! `cargo bench --manifest-path benches/comparison/Cargo.toml --bench cardinality`
//!
//! Every peer sees the same label sets in the same order (a fixed-seed generator). Label
//! values are `&'static str` for every peer (the endpoints are leaked once), the cheapest
//! form each takes. The peers: promlink, `prometheus`, `prometheus-client`, `metrics`
//! with `metrics-exporter-prometheus`'s recorder (one of its own for each family set, set
//! for each call with `with_local_recorder`), and `measured` (`lasso` label sets).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metrics_exporter_prometheus::PrometheusRecorder;
use promlink_comparison::{client_side, measured_side, metrics_builder, BUCKETS};

type ClientCounter = prometheus_client::metrics::counter::Counter;
type ClientHistogram = prometheus_client::metrics::histogram::Histogram;
type ClientFamily<S, M = ClientCounter, C = fn() -> M> =
    prometheus_client::metrics::family::Family<S, M, C>;

/// xorshift64*: the same sequence for every peer and every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A float in [0, 1).
    #[allow(clippy::cast_precision_loss)] // 53 random bits
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `len` ranks below `n` drawn Zipf(`s`) (rank 0 the most frequent), by inverse CDF.
fn zipf(n: usize, s: f64, len: usize, seed: u64) -> Vec<usize> {
    let mut cdf = Vec::with_capacity(n);
    let mut total = 0.0;
    for rank in 1..=n {
        #[allow(clippy::cast_precision_loss)]
        let weight = 1.0 / (rank as f64).powf(s);
        total += weight;
        cdf.push(total);
    }
    let mut rng = Rng(seed);
    (0..len)
        .map(|_| {
            let u = rng.unit() * total;
            cdf.partition_point(|&c| c < u).min(n - 1)
        })
        .collect()
}

/// `0..n` in a shuffled order (Fisher-Yates).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng(seed);
    for i in (1..n).rev() {
        #[allow(clippy::cast_possible_truncation)] // below n
        let j = (rng.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

const METHODS: [&str; 3] = ["GET", "POST", "PUT"];
const STATUSES: [&str; 10] = [
    "200", "201", "204", "301", "400", "401", "403", "404", "500", "503",
];

/// The 1,200 (method, endpoint, status) sets of the request mix: 3 x 40 x 10, ranked so
/// that rank 0 is the most frequent.
fn request_sets() -> Vec<(&'static str, &'static str, &'static str)> {
    let endpoints: Vec<&'static str> = (0..40)
        .map(|i| &*Box::leak(format!("/api/v1/resource_{i}/items").into_boxed_str()))
        .collect();
    let mut sets = Vec::new();
    for status in STATUSES {
        for endpoint in &endpoints {
            for method in METHODS {
                sets.push((method, *endpoint, status));
            }
        }
    }
    sets
}

/// `n` distinct endpoints, leaked: `&'static str` for every peer.
fn endpoints(n: usize, prefix: &str) -> Vec<&'static str> {
    (0..n)
        .map(|i| &*Box::leak(format!("/{prefix}/item/{i}").into_boxed_str()))
        .collect()
}

/// The peers' counter and histogram families for the request mix.
struct Peers {
    metrics: PrometheusRecorder,
    measured: measured_side::RequestGroup,
    promlink_requests: Arc<promlink::Metric<promlink::Family<promlink::Counter, 3>>>,
    promlink_latency: Arc<promlink::Metric<promlink::Family<promlink::Histogram<8>, 2>>>,
    prom_requests: prometheus::IntCounterVec,
    prom_latency: prometheus::HistogramVec,
    client_requests: ClientFamily<client_side::StaticLabels>,
    client_latency: ClientFamily<client_side::StaticPair, ClientHistogram>,
}

impl Peers {
    fn new() -> Peers {
        let labels = ["method", "endpoint", "status"];
        Peers {
            metrics: metrics_builder().build_recorder(),
            measured: measured_side::RequestGroup::default(),
            promlink_requests: Arc::new(promlink::Metric::new(
                "requests_total",
                "Requests.",
                promlink::Family::new(labels, promlink::Counter::new()).with_max_series(1 << 20),
            )),
            promlink_latency: Arc::new(promlink::Metric::new(
                "latency_seconds",
                "Latency.",
                promlink::Family::new(["method", "endpoint"], promlink::Histogram::new(&BUCKETS)),
            )),
            prom_requests: prometheus::IntCounterVec::new(
                prometheus::Opts::new("requests_total", "Requests."),
                &labels,
            )
            .unwrap(),
            prom_latency: prometheus::HistogramVec::new(
                prometheus::HistogramOpts::new("latency_seconds", "Latency.")
                    .buckets(BUCKETS.to_vec()),
                &["method", "endpoint"],
            )
            .unwrap(),
            client_requests: ClientFamily::default(),
            client_latency: ClientFamily::new_with_constructor(|| ClientHistogram::new(BUCKETS)),
        }
    }

    fn promlink(&self, (method, endpoint, status): (&str, &str, &str), seconds: f64) {
        self.promlink_requests
            .labels((method, endpoint, status))
            .inc();
        self.promlink_latency
            .labels((method, endpoint))
            .observe(seconds);
    }

    fn prometheus(&self, (method, endpoint, status): (&str, &str, &str), seconds: f64) {
        self.prom_requests
            .with_label_values(&[method, endpoint, status])
            .inc();
        self.prom_latency
            .with_label_values(&[method, endpoint])
            .observe(seconds);
    }

    fn client(
        &self,
        (method, endpoint, status): (&'static str, &'static str, &'static str),
        seconds: f64,
    ) {
        self.client_requests
            .get_or_create(&client_side::StaticLabels {
                method,
                endpoint,
                status,
            })
            .inc();
        self.client_latency
            .get_or_create(&client_side::StaticPair { method, endpoint })
            .observe(seconds);
    }

    fn metrics(&self, (method, endpoint, status): Request, seconds: f64) {
        self.with_metrics(|| {
            metrics::counter!(
                "requests_total", "method" => method, "endpoint" => endpoint, "status" => status
            )
            .increment(1);
            metrics::histogram!("latency_seconds", "method" => method, "endpoint" => endpoint)
                .record(seconds);
        });
    }

    /// Runs `f` with this set's `metrics` recorder.
    fn with_metrics(&self, f: impl FnOnce()) {
        metrics::with_local_recorder(&self.metrics, f);
    }

    fn measured(&self, (method, endpoint, status): (&str, &str, &str), seconds: f64) {
        self.measured
            .requests_total
            .inc(measured_side::RequestLabels {
                method,
                endpoint,
                status,
            });
        self.measured.latency_seconds.observe(
            measured_side::MethodPathLabels {
                method,
                path: endpoint,
            },
            seconds,
        );
    }
}

type Request = (&'static str, &'static str, &'static str);

/// One request of the mix (the label set, the seconds observed) through a peer.
type Serve = fn(&Peers, Request, f64);

/// One request of the mix for each peer, by name.
const PEERS: [(&str, Serve); 5] = [
    ("promlink", Peers::promlink),
    ("prometheus", Peers::prometheus),
    ("prometheus-client", Peers::client),
    ("metrics", Peers::metrics),
    ("measured (lasso ThreadedRodeo sets)", Peers::measured),
];

impl Peers {
    #[inline]
    fn count_promlink(&self, path: &'static str) {
        self.promlink_requests.labels(("GET", path, "200")).inc();
    }

    #[inline]
    fn count_prometheus(&self, path: &'static str) {
        self.prom_requests
            .with_label_values(&["GET", path, "200"])
            .inc();
    }

    #[inline]
    fn count_client(&self, path: &'static str) {
        let labels = client_side::StaticLabels {
            method: "GET",
            endpoint: path,
            status: "200",
        };
        self.client_requests.get_or_create(&labels).inc();
    }

    #[inline]
    fn count_metrics(&self, path: &'static str) {
        self.with_metrics(|| {
            metrics::counter!(
                "requests_total", "method" => "GET", "endpoint" => path, "status" => "200"
            )
            .increment(1);
        });
    }

    #[inline]
    fn count_measured(&self, path: &'static str) {
        self.measured
            .requests_total
            .inc(measured_side::RequestLabels {
                method: "GET",
                endpoint: path,
                status: "200",
            });
    }
}

/// A lookup of `{method="GET", endpoint=path, status="200"}` and an increment.
type Count = fn(&Peers, &'static str);

/// The counter-only workloads' lookup + inc for each peer, by name: in the same order as
/// [`PEERS`].
const COUNTERS: [(&str, Count); 5] = [
    ("promlink", Peers::count_promlink),
    ("prometheus", Peers::count_prometheus),
    ("prometheus-client", Peers::count_client),
    ("metrics", Peers::count_metrics),
    ("measured (lasso ThreadedRodeo sets)", Peers::count_measured),
];

// 10. The request mix on one thread: counter inc + histogram observe, each looked up.
fn request_mix(c: &mut Criterion) {
    let sets = request_sets();
    let draws: Vec<Request> = zipf(sets.len(), 1.1, 1 << 16, 7)
        .into_iter()
        .map(|rank| sets[rank])
        .collect();
    let mut g = c.benchmark_group("10_request_mix_zipf_1200_sets");
    for (name, request) in PEERS {
        let peers = Peers::new();
        let mut next = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                next = (next + 1) & (draws.len() - 1);
                request(&peers, black_box(draws[next]), 0.042);
            });
        });
    }
    g.finish();
}

/// A core for each of the two threads, if the machine says which: left to the scheduler,
/// both sometimes share one core for a sample and take turns instead of contending (the
/// samples then swing between about 17 and 32 ms).
fn cores() -> [Option<core_affinity::CoreId>; 2] {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    [cores.first().copied(), cores.get(1).copied()]
}

/// Requests per thread in the two-thread mix.
const PER_THREAD: usize = 100_000;

// 10b. The same mix on two threads at once, each with draws of its own.
fn request_mix_two_threads(c: &mut Criterion) {
    let sets = request_sets();
    let draws: Vec<Vec<Request>> = [11, 13]
        .map(|seed| {
            zipf(sets.len(), 1.1, PER_THREAD, seed)
                .into_iter()
                .map(|rank| sets[rank])
                .collect()
        })
        .into();
    let mut g = c.benchmark_group("10b_request_mix_zipf_1200_sets_2_threads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(2 * PER_THREAD as u64));
    for (name, request) in PEERS {
        let peers = Peers::new();
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let barrier = Barrier::new(3);
                    let started = std::thread::scope(|s| {
                        for (mine, core) in draws.iter().zip(cores()) {
                            let (barrier, peers) = (&barrier, &peers);
                            s.spawn(move || {
                                if let Some(core) = core {
                                    core_affinity::set_for_current(core);
                                }
                                barrier.wait();
                                for &set in mine {
                                    request(peers, set, 0.042);
                                }
                            });
                        }
                        barrier.wait();
                        Instant::now()
                    });
                    total += started.elapsed();
                }
                total
            });
        });
    }
    g.finish();
}

// 11. Lookup + inc over 10,000 label sets in shuffled order.
fn ten_thousand_sets(c: &mut Criterion) {
    const SETS: usize = 10_000;
    let endpoints = endpoints(SETS, "many");
    let order: Vec<&'static str> = shuffled(SETS, 3)
        .into_iter()
        .map(|i| endpoints[i])
        .collect();
    let peers = Peers::new();
    let mut g = c.benchmark_group("11_lookup_10000_sets_shuffled");
    let mut next = 0;
    let mut endpoint = || {
        next = (next + 1) % SETS;
        black_box(order[next])
    };
    // Each called directly, not through `COUNTERS`' pointers: inlined into criterion's
    // loop, as the other groups' code is (through the pointers promlink measured 1.10-1.15
    // x prometheus here, directly 0.90).
    let [promlink, prometheus, client, metrics, measured] = COUNTERS.map(|(name, _)| name);
    g.bench_function(promlink, |b| b.iter(|| peers.count_promlink(endpoint())));
    g.bench_function(prometheus, |b| {
        b.iter(|| peers.count_prometheus(endpoint()));
    });
    g.bench_function(client, |b| b.iter(|| peers.count_client(endpoint())));
    g.bench_function(metrics, |b| b.iter(|| peers.count_metrics(endpoint())));
    g.bench_function(measured, |b| b.iter(|| peers.count_measured(endpoint())));
    g.finish();
}

/// New series created in a fresh family, per sample.
const FIRST_TOUCH: usize = 100_000;

/// `iters` samples, each of a fresh family from `make` filled by `fill` (timed), dropped
/// after (not timed).
fn fresh<T>(iters: u64, make: impl Fn() -> T, fill: impl Fn(&T)) -> Duration {
    (0..iters)
        .map(|_| {
            let family = make();
            let start = Instant::now();
            fill(&family);
            start.elapsed()
        })
        .sum()
}

// 12. Creating 100,000 new series in a fresh family (time per series).
fn first_touch(c: &mut Criterion) {
    let endpoints = endpoints(FIRST_TOUCH, "new");
    let mut g = c.benchmark_group("12_first_touch_100k_series");
    g.sample_size(10);
    g.throughput(Throughput::Elements(FIRST_TOUCH as u64));
    g.bench_function("promlink", |b| {
        b.iter_custom(|iters| {
            let make = || {
                promlink::Family::new(["method", "endpoint", "status"], promlink::Counter::new())
                    .with_max_series(FIRST_TOUCH)
            };
            fresh(iters, make, |family| {
                for e in &endpoints {
                    family.labels(("GET", *e, "200")).inc();
                }
            })
        });
    });
    g.bench_function("prometheus", |b| {
        b.iter_custom(|iters| {
            fresh(
                iters,
                || Peers::new().prom_requests,
                |family| {
                    for e in &endpoints {
                        family.with_label_values(&["GET", e, "200"]).inc();
                    }
                },
            )
        });
    });
    g.bench_function("prometheus-client", |b| {
        b.iter_custom(|iters| {
            fresh(
                iters,
                ClientFamily::<client_side::StaticLabels>::default,
                |family| {
                    for e in &endpoints {
                        let labels = client_side::StaticLabels {
                            method: "GET",
                            endpoint: e,
                            status: "200",
                        };
                        family.get_or_create(&labels).inc();
                    }
                },
            )
        });
    });
    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| {
            fresh(
                iters,
                || metrics_builder().build_recorder(),
                |recorder| {
                    metrics::with_local_recorder(recorder, || {
                        for e in &endpoints {
                            metrics::counter!(
                            "requests_total", "method" => "GET", "endpoint" => *e, "status" => "200"
                        )
                        .increment(1);
                        }
                    });
                },
            )
        });
    });
    g.bench_function("measured (lasso ThreadedRodeo sets)", |b| {
        b.iter_custom(|iters| {
            let make =
                || measured::CounterVec::with_label_set(measured_side::RequestLabelSet::default());
            fresh(iters, make, |family| {
                for e in &endpoints {
                    family.inc(measured_side::RequestLabels {
                        method: "GET",
                        endpoint: e,
                        status: "200",
                    });
                }
            })
        });
    });
    g.finish();
}

const SCRAPE_COUNTERS: usize = 100_000;
const SCRAPE_HISTOGRAMS: usize = 1_000;

/// A registry of each peer over the shared families, its scrape, and an increment of one
/// of its counter series by path (for the concurrent updater).
struct Scraped {
    name: &'static str,
    scrape: Box<dyn FnMut() -> usize>,
    inc: Count,
}

/// The peers' families filled for the scrape: a counter series for each of `paths`, a
/// histogram series for the first thousand.
fn filled(paths: &[&'static str]) -> Arc<Peers> {
    let peers = Arc::new(Peers::new());
    for (i, path) in paths.iter().enumerate() {
        if i < SCRAPE_HISTOGRAMS {
            // Requests of the mix: the counter series counts these four.
            for seconds in [0.003, 0.04, 0.2, 1.5] {
                for (_, serve) in PEERS {
                    serve(&peers, ("GET", path, "200"), seconds);
                }
            }
        } else {
            for (_, count) in COUNTERS {
                count(&peers, path);
            }
        }
    }
    peers
}

fn scraped(peers: &Arc<Peers>) -> Vec<Scraped> {
    let mut all = Vec::new();

    let registry = promlink::Registry::new();
    registry.register(peers.promlink_requests.clone()).unwrap();
    registry.register(peers.promlink_latency.clone()).unwrap();
    all.push(Scraped {
        name: "promlink",
        scrape: Box::new({
            let mut out = Vec::new();
            move || {
                out.clear();
                let _ = registry.encode(promlink::Format::Text, &mut out);
                out.len()
            }
        }),
        inc: Peers::count_promlink,
    });
    let prom_registry = prometheus::Registry::new();
    prom_registry
        .register(Box::new(peers.prom_requests.clone()))
        .unwrap();
    prom_registry
        .register(Box::new(peers.prom_latency.clone()))
        .unwrap();
    all.push(Scraped {
        name: "prometheus",
        scrape: Box::new({
            let mut out = Vec::new();
            move || {
                use prometheus::Encoder as _;
                out.clear();
                prometheus::TextEncoder::new()
                    .encode(&prom_registry.gather(), &mut out)
                    .unwrap();
                out.len()
            }
        }),
        inc: Peers::count_prometheus,
    });
    let mut client_registry = prometheus_client::registry::Registry::default();
    client_registry.register("requests", "Requests.", peers.client_requests.clone());
    client_registry.register("latency_seconds", "Latency.", peers.client_latency.clone());
    all.push(Scraped {
        name: "prometheus-client",
        scrape: Box::new({
            let mut out = String::new();
            move || {
                out.clear();
                prometheus_client::encoding::text::encode(&mut out, &client_registry).unwrap();
                out.len()
            }
        }),
        inc: Peers::count_client,
    });
    all.extend(scraped_facade_and_measured(peers));
    all
}

/// The `metrics` and `measured` entries of [`scraped`].
fn scraped_facade_and_measured(peers: &Arc<Peers>) -> [Scraped; 2] {
    let metrics_handle = peers.metrics.handle();
    [
        Scraped {
            name: "metrics",
            scrape: Box::new(move || metrics_handle.render().len()),
            inc: Peers::count_metrics,
        },
        Scraped {
            name: "measured (lasso ThreadedRodeo sets)",
            scrape: Box::new({
                let peers = peers.clone();
                let mut encoder = measured::text::BufferedTextEncoder::new();
                move || {
                    use measured::MetricGroup as _;
                    peers.measured.collect_group_into(&mut encoder).unwrap();
                    encoder.finish().len()
                }
            }),
            inc: Peers::count_measured,
        },
    ]
}

// 13. Scraping 100,000 counter + 1,000 histogram series to text, alone and while a
// thread updates.
fn scrape(c: &mut Criterion) {
    let paths = endpoints(SCRAPE_COUNTERS, "scrape");
    let families = filled(&paths);
    let mut peers = scraped(&families);
    for (group, updating) in [
        ("13_scrape_100k_counters_1k_histograms", false),
        ("13b_scrape_100k_while_a_thread_updates", true),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        for peer in &mut peers {
            let stop = Arc::new(AtomicBool::new(false));
            let updater = updating.then(|| {
                let (stop, families, paths, inc) = (
                    Arc::clone(&stop),
                    Arc::clone(&families),
                    paths.clone(),
                    peer.inc,
                );
                std::thread::spawn(move || {
                    let mut rng = Rng(5);
                    while !stop.load(Relaxed) {
                        #[allow(clippy::cast_possible_truncation)] // below the count
                        inc(
                            &families,
                            paths[(rng.next() % SCRAPE_COUNTERS as u64) as usize],
                        );
                    }
                })
            });
            g.bench_function(peer.name, |b| b.iter(|| black_box((peer.scrape)())));
            stop.store(true, Relaxed);
            if let Some(updater) = updater {
                updater.join().unwrap();
            }
        }
        g.finish();
    }
}

criterion_group!(
    benches,
    request_mix,
    request_mix_two_threads,
    ten_thousand_sets,
    first_touch,
    scrape
);
criterion_main!(benches);
