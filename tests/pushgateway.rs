//! A batch job pushes to a real push gateway (Debian's `prometheus-pushgateway`) on
//! loopback: the gateway shows the values under the grouping key, push-add adds, delete
//! removes, and failures come back with the gateway's message. Grouping keys with a `/`,
//! an empty value or a `/` in the job arrive as written; invalid ones are refused before
//! anything is sent; a timeout bounds a gateway that never answers.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlink::push::{delete_from_gateway, push_to_gateway, pushadd_to_gateway, PushError, Pusher};
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

/// The grouping keys of the gateway's groups (its `/api/v1/metrics`), the job included.
fn groups(address: &str) -> Vec<BTreeMap<String, String>> {
    let answer: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("http://{address}/api/v1/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| serde_json::from_value(group["labels"].clone()).unwrap())
        .collect()
}

fn key(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn one_gauge(name: &'static str, value: f64) -> Registry {
    let registry = Registry::new();
    let gauge = Arc::new(Metric::new(name, "A value.", Gauge::new()));
    registry.register(gauge.clone()).unwrap();
    gauge.set(value);
    registry
}

#[test]
fn a_slash_in_a_grouping_value_stays_one_label() {
    let (_gateway, address) = start_gateway();
    let registry = one_gauge("files_removed", 3.0);
    push_to_gateway(
        &address,
        "cleaner",
        &[("path", "a/b"), ("note", "x y+z%é")],
        &registry,
    )
    .unwrap();
    assert_eq!(
        groups(&address),
        [key(&[
            ("job", "cleaner"),
            ("path", "a/b"),
            ("note", "x y+z%é")
        ])]
    );
    let shown = gateway_metrics(&address);
    assert!(
        shown.contains(
            "files_removed{instance=\"\",job=\"cleaner\",note=\"x y+z%é\",path=\"a/b\"} 3\n"
        ),
        "{shown}"
    );
}

#[test]
fn an_empty_grouping_value_is_kept() {
    let (_gateway, address) = start_gateway();
    let grouping = [("shard", ""), ("region", "eu")];
    push_to_gateway(&address, "sweep", &grouping, &one_gauge("swept", 1.0)).unwrap();
    assert_eq!(
        groups(&address),
        [key(&[("job", "sweep"), ("shard", ""), ("region", "eu")])]
    );
    // The same key finds the same group.
    pushadd_to_gateway(&address, "sweep", &grouping, &one_gauge("left", 2.0)).unwrap();
    assert_eq!(groups(&address).len(), 1);
    delete_from_gateway(&address, "sweep", &grouping).unwrap();
    assert_eq!(groups(&address), [] as [BTreeMap<String, String>; 0]);
}

#[test]
fn a_job_name_with_a_slash() {
    let (_gateway, address) = start_gateway();
    let pusher = Pusher::new(format!("http://{address}/"));
    pusher
        .push(
            "batch/nightly",
            &[("instance", "db-1")],
            &one_gauge("rows", 7.0),
        )
        .unwrap();
    assert_eq!(
        groups(&address),
        [key(&[("job", "batch/nightly"), ("instance", "db-1")])]
    );
    let shown = gateway_metrics(&address);
    assert!(
        shown.contains("rows{instance=\"db-1\",job=\"batch/nightly\"} 7\n"),
        "{shown}"
    );
    pusher
        .delete("batch/nightly", &[("instance", "db-1")])
        .unwrap();
    assert_eq!(groups(&address), [] as [BTreeMap<String, String>; 0]);
}

/// A grouping key, as the push functions take it.
type Grouping<'a> = &'a [(&'a str, &'a str)];

#[test]
fn invalid_grouping_keys_are_refused_before_sending() {
    // Not a gateway: a listener that counts who connects.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let registry = one_gauge("never_sent", 1.0);
    let cases: [(&str, Grouping, &str); 7] = [
        ("", &[], "job name is empty"),
        ("j", &[("job", "other")], "`job`"),
        ("j", &[("__name__", "x")], "reserved"),
        ("j", &[("instance", "a"), ("bad-name", "x")], "\"bad-name\""),
        ("j", &[("1st", "x")], "\"1st\""),
        ("j", &[("", "x")], "not a label name"),
        ("j", &[("a", "1"), ("a", "2")], "`a` is given twice"),
    ];
    // A short timeout, so that a check gone missing fails this test in a second, not 30 s.
    let pusher = Pusher::new(address.as_str()).timeout(Duration::from_secs(1));
    for (job, grouping, why) in cases {
        let refused = |outcome: Result<(), PushError>| {
            let error = outcome.unwrap_err();
            assert!(
                matches!(&error, PushError::InvalidGroupingKey(text) if text.contains(why)),
                "{job:?} {grouping:?}: {error:?}"
            );
            assert!(
                error.to_string().starts_with("invalid grouping key: "),
                "{error}"
            );
        };
        refused(pusher.push(job, grouping, &registry));
        refused(pusher.pushadd(job, grouping, &registry));
        refused(pusher.delete(job, grouping));
        refused(push_to_gateway(&address, job, grouping, &registry));
        refused(pushadd_to_gateway(&address, job, grouping, &registry));
        refused(delete_from_gateway(&address, job, grouping));
    }
    let nobody = listener.accept().map(|_| ()).unwrap_err();
    assert_eq!(nobody.kind(), ErrorKind::WouldBlock, "something connected");

    // The listener does see a push that passes the checks.
    let unanswered = Pusher::new(address.as_str())
        .timeout(Duration::from_millis(300))
        .push("j", &[("instance", "a")], &registry)
        .unwrap_err();
    assert!(
        matches!(unanswered, PushError::Unreachable(_)),
        "{unanswered}"
    );
    listener
        .accept()
        .expect("a valid push reaches the listener");
}

#[test]
fn the_gateway_s_message_comes_back() {
    let (_gateway, address) = start_gateway();
    let counter = Registry::new();
    let total = Arc::new(Metric::new("conflicts_total", "Conflicts.", Counter::new()));
    counter.register(total.clone()).unwrap();
    total.inc();
    push_to_gateway(&address, "first", &[], &counter).unwrap();

    // The same name as a gauge in another group: the gateway refuses the inconsistency.
    let error =
        push_to_gateway(&address, "second", &[], &one_gauge("conflicts_total", 1.0)).unwrap_err();
    let PushError::Status { status, message } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 400);
    assert!(
        message.contains("pushed metrics are invalid or inconsistent with existing metrics")
            && message.contains("conflicts_total"),
        "{message:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("the push gateway answered 400: pushed metrics are invalid"),
        "{text}"
    );
    let shown = gateway_metrics(&address);
    assert!(
        shown.contains("conflicts_total{instance=\"\",job=\"first\"} 1\n")
            && !shown.contains("job=\"second\"} 1\n"),
        "the refused gauge is not kept: {shown}"
    );
}

#[test]
fn a_short_timeout_against_a_gateway_that_never_answers() {
    // Accepts every connection, reads nothing, answers nothing, holds it open.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let registry = one_gauge("slow", 1.0);
    let pusher = Pusher::new(address.as_str()).timeout(Duration::from_secs(1));
    let bounded = |call: &dyn Fn() -> Result<(), PushError>| {
        let started = Instant::now();
        let error = call().unwrap_err();
        let took = started.elapsed();
        assert!(matches!(error, PushError::Unreachable(_)), "{error}");
        assert!(
            took >= Duration::from_millis(900),
            "gave up before the timeout: {took:?} ({error})"
        );
        assert!(
            took < Duration::from_secs(10),
            "the 1 s timeout did not bound the call: {took:?}"
        );
    };
    bounded(&|| pusher.push("j", &[], &registry));
    bounded(&|| pusher.delete("j", &[]));
}
