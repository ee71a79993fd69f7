//! The seed's program: HTTP request metrics for a small service, with simulated traffic.
//!
//! `cargo run --example quickstart` serves `/metrics` on 127.0.0.1:8000 (`--listen ADDR`
//! for another address) while it simulates traffic, a burst every second, some of it
//! failing. `cargo run --example quickstart -- --print` simulates one burst, writes one
//! exposition (text format 0.0.4) to stdout and exits; pipe it into
//! `promtool check metrics`. Add `--openmetrics` for OpenMetrics 1.0.0.
//!
//! Each request carries a (simulated) trace id as an exemplar on its counter and its
//! duration's bucket: OpenMetrics and protobuf scrapes show it, so a Prometheus with
//! `--enable-feature=exemplar-storage` links a latency spike to a trace. The request
//! duration histogram has native buckets beside its classic ones: a Prometheus with
//! `--enable-feature=native-histograms` scrapes protobuf and stores the native histogram,
//! whose quantiles are exact to within 9%, whatever the latencies.

use promlink::{counted, declare_metrics, timed};

#[path = "support/cli.rs"]
mod cli;

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Current active connections.
    pub gauge ACTIVE_CONNECTIONS;
    /// Request duration in seconds.
    #[metric(unit = "seconds")]
    pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str }
        buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0] native;
}

const ENDPOINTS: [(&str, &str); 4] = [
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/users"),
    ("GET", "/health"),
];

/// A failed order.
#[derive(Debug)]
struct OrderRejected;

/// Processes one order; `function_calls_total` counts it by result and
/// `function_duration_seconds` times it, from these two attributes alone.
#[counted]
#[timed(buckets = [0.001, 0.01, 0.1])]
fn process_order(id: u64) -> Result<u64, OrderRejected> {
    if id.is_multiple_of(20) {
        return Err(OrderRejected);
    }
    Ok(id)
}

/// Handles one simulated request: counts it, times it and tracks the connection, with
/// its trace id as the exemplar of both.
fn handle(method: &str, endpoint: &str, id: u64, seconds: f64, trace: u128) {
    let _connection = ACTIVE_CONNECTIONS.track_in_progress();
    let status = if endpoint == "/api/orders" && process_order(id).is_err() {
        500
    } else {
        200
    };
    let trace_id = format!("{trace:032x}");
    let exemplar = [("trace_id", trace_id.as_str())];
    HTTP_REQUEST_DURATION_SECONDS
        .labels(endpoint)
        .observe_with_exemplar(seconds, &exemplar)
        .expect("a trace id is a valid exemplar");
    HTTP_REQUESTS_TOTAL
        .labels(method, endpoint, status)
        .inc_with_exemplar(&exemplar)
        .expect("a trace id is a valid exemplar");
}

/// A deterministic pseudo-random sequence: enough for a demo, no dependency.
struct Traffic(u64);

impl Traffic {
    fn next(&mut self) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A burst of `requests` requests with latencies spread over the buckets and about
    /// one order in twenty rejected.
    fn burst(&mut self, requests: u32) {
        for _ in 0..requests {
            let (method, endpoint) = ENDPOINTS[usize::try_from(self.next() % 4).expect("small")];
            #[allow(clippy::cast_precision_loss)] // a value below 2^20
            let seconds = (self.next() % 1_000_000) as f64 / 1_000_000.0 * 0.6;
            let id = self.next();
            let trace = u128::from(self.next()) << 64 | u128::from(self.next());
            handle(method, endpoint, id, seconds, trace);
        }
        ACTIVE_CONNECTIONS.set(f64::from(u32::try_from(self.next() % 8).expect("small")));
    }
}

fn main() {
    let options = cli::options("127.0.0.1:8000");
    let mut traffic = Traffic(0x2545_f491_4f6c_dd1d);
    traffic.burst(1000);
    let Some(_server) = cli::print_or_serve(&options) else {
        return;
    };
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        traffic.burst(50);
    }
}
