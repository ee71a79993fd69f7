//! A batch job pushes to a real push gateway (Debian's `prometheus-pushgateway`) on
//! loopback: the gateway shows the values under the grouping key, push-add adds, delete
//! removes, and failures come back with the gateway's message.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlink::push::{delete_from_gateway, push_to_gateway, pushadd_to_gateway, PushError};
use promlink::{Counter, Gauge, Metric, Registry};

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_gateway() -> (Gateway, String) {
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus-pushgateway")
        .arg(format!("--web.listen-address={address}"))
        // In memory only: Debian's default file (/var/lib/prometheus/pushgateway.data) is
        // shared by every gateway on the machine, so groups would leak between tests and
        // runs.
        .arg("--persistence.file=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-pushgateway is not installed: apt-get install prometheus-pushgateway");
    let gateway = Gateway(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("http://{address}/-/ready"))
        .call()
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the push gateway did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (gateway, address)
}

fn gateway_metrics(address: &str) -> String {
    ureq::get(&format!("http://{address}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

#[test]
fn push_pushadd_and_delete() {
    let (_gateway, address) = start_gateway();
    let registry = Registry::new();
    let processed = Arc::new(Metric::new(
        "records_processed_total",
        "Records processed.",
        Counter::new(),
    ));
    registry.register(processed.clone()).unwrap();
    processed.inc_by(42.0);
    let grouping = [("instance", "batch/1")];

    push_to_gateway(&address, "nightly", &grouping, &registry).unwrap();
    let shown = gateway_metrics(&address);
    assert!(
        shown.contains("records_processed_total{instance=\"batch/1\",job=\"nightly\"} 42\n"),
        "{shown}"
    );

    let extra = Registry::new();
    let duration = Arc::new(Metric::new(
        "last_duration_seconds",
        "Duration of the last run.",
        Gauge::new(),
    ));
    extra.register(duration.clone()).unwrap();
    duration.set(12.5);
    pushadd_to_gateway(&address, "nightly", &grouping, &extra).unwrap();
    let shown = gateway_metrics(&address);
    assert!(
        shown.contains("last_duration_seconds{instance=\"batch/1\",job=\"nightly\"} 12.5\n"),
        "{shown}"
    );
    assert!(
        shown.contains("records_processed_total{instance=\"batch/1\",job=\"nightly\"} 42\n"),
        "push-add keeps the rest: {shown}"
    );

    push_to_gateway(&address, "nightly", &grouping, &extra).unwrap();
    let shown = gateway_metrics(&address);
    assert!(
        !shown.contains("records_processed_total{"),
        "push replaces the group: {shown}"
    );

    delete_from_gateway(&address, "nightly", &grouping).unwrap();
    let shown = gateway_metrics(&address);
    assert!(!shown.contains("job=\"nightly\""), "{shown}");

    let refused = push_to_gateway(
        &format!("http://{address}/no/such/prefix"),
        "nightly",
        &[],
        &registry,
    )
    .unwrap_err();
    assert!(
        matches!(refused, PushError::Status { status: 404, .. }),
        "{refused}"
    );
    let unreachable = push_to_gateway(
        &format!("127.0.0.1:{}", free_port()),
        "nightly",
        &[],
        &registry,
    )
    .unwrap_err();
    assert!(
        matches!(unreachable, PushError::Unreachable(_)),
        "{unreachable}"
    );
}
