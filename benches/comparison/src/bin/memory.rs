//! Memory per labelled series: 100,000 and then 1,000,000 series of a counter labelled
//! `{method, endpoint, status}` in each library, counted by a global allocator that keeps
//! the number of live heap bytes.
//!
//! `cargo run --release --manifest-path benches/comparison/Cargo.toml --bin memory`
//!
//! Each endpoint value is formatted into a temporary `String` that is dropped after the
//! lookup, so only what a library keeps is counted. Method and status are `&'static str`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use promlink_comparison::{client_side, measured_side, metrics_builder, REQUEST_LABELS};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

#[allow(clippy::cast_possible_wrap)] // layouts are at most isize::MAX bytes
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The sizes measured, one after the other.
const SIZES: [usize; 2] = [100_000, 1_000_000];

fn endpoint(i: usize) -> String {
    format!("/api/item/{i}")
}

/// Live bytes added by `fill` on `container`, per series; the container itself (created
/// before) is not counted.
#[allow(clippy::cast_precision_loss)]
fn per_series<T>(series: usize, name: &str, container: T, fill: impl FnOnce(&T)) -> f64 {
    let before = LIVE.load(Relaxed);
    fill(&container);
    let after = LIVE.load(Relaxed);
    let bytes = (after - before) as f64 / series as f64;
    println!("{name:<44} {bytes:>8.1} bytes per series");
    drop(container);
    bytes
}

fn main() {
    for series in SIZES {
        measure(series);
    }
}

fn measure(series: usize) {
    println!("{series} series of a counter labelled {{method, endpoint, status}}:");

    per_series(
        series,
        "promlink (Family<Counter, 3>)",
        // Room for every series: past its default limit (10,000) a family counts new
        // label sets in one overflow series.
        promlink::Family::new(REQUEST_LABELS, promlink::Counter::new()).with_max_series(series),
        |family| {
            for i in 0..series {
                family.labels(("GET", endpoint(i).as_str(), "200")).inc();
            }
        },
    );

    per_series(
        series,
        "prometheus (IntCounterVec)",
        prometheus::IntCounterVec::new(
            prometheus::Opts::new("requests_total", "Requests."),
            &REQUEST_LABELS,
        )
        .unwrap(),
        |vec| {
            for i in 0..series {
                vec.with_label_values(&["GET", endpoint(i).as_str(), "200"])
                    .inc();
            }
        },
    );

    per_series(
        series,
        "prometheus-client (Family, String endpoint)",
        prometheus_client::metrics::family::Family::<
            client_side::EndpointOwned,
            prometheus_client::metrics::counter::Counter,
        >::default(),
        |family| {
            for i in 0..series {
                family
                    .get_or_create(&client_side::EndpointOwned {
                        method: "GET",
                        endpoint: endpoint(i),
                        status: "200",
                    })
                    .inc();
            }
        },
    );

    per_series(
        series,
        "metrics + exporter-prometheus recorder",
        metrics_builder().build_recorder(),
        |recorder| {
            metrics::with_local_recorder(recorder, || {
                for i in 0..series {
                    metrics::counter!(
                        "requests_total",
                        "method" => "GET",
                        "endpoint" => endpoint(i),
                        "status" => "200"
                    )
                    .increment(1);
                }
            });
        },
    );

    per_series(
        series,
        "measured (CounterVec, ThreadedRodeo sets)",
        measured::CounterVec::with_label_set(measured_side::RequestLabelSet::default()),
        |vec| {
            for i in 0..series {
                vec.inc(measured_side::RequestLabels {
                    method: "GET",
                    endpoint: &endpoint(i),
                    status: "200",
                });
            }
        },
    );
}
