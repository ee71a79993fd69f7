//! The seed's program: HTTP request metrics for a small service, with simulated traffic.
//!
//! `cargo run --example quickstart -- --print` simulates a burst of traffic, writes one
//! exposition (text format 0.0.4) to stdout and exits; pipe it into
//! `promtool check metrics`. Add `--openmetrics` for OpenMetrics 1.0.0.

use promlink::{register, Counter, Family, Format, Gauge, Histogram, Metric, Registry};

/// Total HTTP requests.
static HTTP_REQUESTS_TOTAL: Metric<Family<Counter, 3>> = Metric::new(
    "http_requests_total",
    "Total HTTP requests.",
    Family::new(["method", "endpoint", "status"], Counter::new()),
);

/// Current active connections.
static ACTIVE_CONNECTIONS: Metric<Gauge> = Metric::new(
    "active_connections",
    "Current active connections.",
    Gauge::new(),
);

/// Request duration in seconds.
static HTTP_REQUEST_DURATION_SECONDS: Metric<Family<Histogram<8>, 1>> = Metric::new(
    "http_request_duration_seconds",
    "Request duration in seconds.",
    Family::new(
        ["endpoint"],
        Histogram::new(&[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
    ),
)
.with_unit("seconds");

register!(
    HTTP_REQUESTS_TOTAL,
    ACTIVE_CONNECTIONS,
    HTTP_REQUEST_DURATION_SECONDS
);

const ENDPOINTS: [(&str, &str); 4] = [
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/users"),
    ("GET", "/health"),
];

/// Handles one simulated request: counts it, times it and tracks the connection.
fn handle(method: &str, endpoint: &str, status: u16, seconds: f64) {
    let _connection = ACTIVE_CONNECTIONS.track_in_progress();
    HTTP_REQUEST_DURATION_SECONDS
        .labels([endpoint])
        .observe(seconds);
    HTTP_REQUESTS_TOTAL.labels((method, endpoint, status)).inc();
}

/// A burst of `requests` requests with latencies spread over the buckets and about one
/// error in twenty. Deterministic, so every run prints the same counts.
fn simulate_traffic(requests: u32) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64: enough randomness for a demo, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..requests {
        let (method, endpoint) = ENDPOINTS[usize::try_from(next() % 4).expect("small")];
        let status = if next() % 20 == 0 { 500 } else { 200 };
        #[allow(clippy::cast_precision_loss)] // a value below 2^20
        let seconds = (next() % 1_000_000) as f64 / 1_000_000.0 * 0.6;
        handle(method, endpoint, status, seconds);
    }
    ACTIVE_CONNECTIONS.set(3.0);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let format = if args.iter().any(|a| a == "--openmetrics") {
        Format::OpenMetrics
    } else {
        Format::Text
    };
    if let Err(errors) = Registry::global().check() {
        for e in errors {
            eprintln!("{e}");
        }
        std::process::exit(1);
    }
    simulate_traffic(1000);
    if args.iter().any(|a| a == "--print") {
        print!("{}", Registry::global().encode_to_string(format));
    } else {
        eprintln!("usage: quickstart --print [--openmetrics]");
        eprintln!("(serving /metrics over HTTP arrives with promlink's exposition integrations)");
        std::process::exit(2);
    }
}
