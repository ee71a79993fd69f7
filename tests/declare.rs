//! `declare_metrics!` and `#[derive(LabelValue)]` at run time: names, help, units, typed
//! lookups, fixed-cardinality families exported at 0 from the first scrape.

use promlink::{declare_metrics, FixedLabelValue, Format, LabelValue, Registry};

#[derive(Clone, Copy, LabelValue)]
enum Method {
    #[label(rename = "GET")]
    Get,
    #[label(rename = "POST")]
    Post,
}

#[derive(Clone, Copy, LabelValue)]
enum CacheTier {
    Memory,
    OnDisk,
}

declare_metrics! {
    /// Total HTTP requests.
    counter HTTP_REQUESTS_TOTAL { method: Method, endpoint: &str, status: u16 };
    /// Cache lookups.
    counter CACHE_LOOKUPS_TOTAL { tier: CacheTier, hit: bool };
    /// Request duration.
    #[metric(unit = "seconds")]
    histogram REQUEST_DURATION_SECONDS { endpoint: String } buckets [0.1, 1, 10];
    /// Queue depth,
    /// on two lines.
    gauge QUEUE_DEPTH;
    /// Task state.
    stateset TASK_STATE states ["starting", "running"];
    /// Build information.
    info BUILD_INFO;
    #[metric(name = "legacy_jobs_total", help = "Jobs, under an older name.")]
    counter JOBS_TOTAL;
}

fn sample(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    Registry::global().get_sample_value(name, labels)
}

#[test]
fn fixed_cardinality_families_export_every_combination_at_zero() {
    assert_eq!(CacheTier::VALUES, ["memory", "on_disk"]);
    for tier in ["memory", "on_disk"] {
        for hit in ["true", "false"] {
            assert_eq!(
                sample("cache_lookups_total", &[("tier", tier), ("hit", hit)]),
                Some(0.0),
                "{tier} {hit}"
            );
        }
    }
    CACHE_LOOKUPS_TOTAL.labels(CacheTier::OnDisk, true).inc();
    assert_eq!(
        sample(
            "cache_lookups_total",
            &[("tier", "on_disk"), ("hit", "true")]
        ),
        Some(1.0)
    );
    assert_eq!(
        CACHE_LOOKUPS_TOTAL.labels(CacheTier::Memory, true).get(),
        0.0
    );
}

#[test]
fn positional_and_named_lookups_reach_the_same_child() {
    HTTP_REQUESTS_TOTAL
        .labels(Method::Get, "/orders", 200)
        .inc();
    HTTP_REQUESTS_TOTAL
        .with(HttpRequestsTotalLabels {
            method: Method::Get,
            endpoint: "/orders",
            status: 200,
        })
        .inc();
    let labels = [
        ("method", "GET"),
        ("endpoint", "/orders"),
        ("status", "200"),
    ];
    assert_eq!(sample("http_requests_total", &labels), Some(2.0));
    HTTP_REQUESTS_TOTAL.labels(Method::Post, "/gone", 410).inc();
    assert!(HTTP_REQUESTS_TOTAL.remove(Method::Post, "/gone", 410));
    assert_eq!(
        sample(
            "http_requests_total",
            &[("method", "POST"), ("endpoint", "/gone"), ("status", "410")]
        ),
        None
    );
}

#[test]
fn names_help_units_and_types_as_declared() {
    REQUEST_DURATION_SECONDS.labels("/".to_owned()).observe(0.5);
    QUEUE_DEPTH.set(3.0);
    TASK_STATE.set_state("running");
    BUILD_INFO.set(&[("version", "1.2.3")]).unwrap();
    JOBS_TOTAL.inc();
    let om = Registry::global().encode_to_string(Format::OpenMetrics);
    for line in [
        "# TYPE request_duration_seconds histogram\n# UNIT request_duration_seconds seconds\n",
        "# HELP queue_depth Queue depth,\\non two lines.\n",
        "task_state{task_state=\"running\"} 1\n",
        "# TYPE build info\n",
        "build_info{version=\"1.2.3\"} 1\n",
        "# HELP legacy_jobs Jobs, under an older name.\n",
        "legacy_jobs_total 1\n",
    ] {
        let line = line.replace(" 1\n", " 1.0\n");
        assert!(om.contains(&line), "{line:?} in:\n{om}");
    }
    assert_eq!(
        sample(
            "request_duration_seconds_bucket",
            &[("endpoint", "/"), ("le", "1.0")]
        ),
        Some(1.0)
    );
}

declare_metrics! {
    /// Hot: striped over cache lines.
    #[metric(sharded)]
    counter HOT_REQUESTS_TOTAL { path: &str };
}

#[test]
fn sharded_counters_count_exactly_from_many_threads() {
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let child = HOT_REQUESTS_TOTAL.labels("/");
                (0..10_000).for_each(|_| child.inc());
            });
        }
    });
    HOT_REQUESTS_TOTAL.labels("/").inc_by(0.5);
    assert_eq!(
        Registry::global().get_sample_value("hot_requests_total", &[("path", "/")]),
        Some(80_000.5)
    );
    let text = Registry::global().encode_to_string(promlink::Format::Text);
    assert!(
        text.contains("# TYPE hot_requests_total counter\n"),
        "{text}"
    );
}

/// One bucket list for several histograms, checked in `const` evaluation.
const LATENCY_BUCKETS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];

declare_metrics! {
    /// Reads, in seconds.
    histogram READ_SECONDS buckets LATENCY_BUCKETS;
    /// Writes, in seconds, by table.
    histogram WRITE_SECONDS { table: &str } buckets LATENCY_BUCKETS;
    /// Orders taken, for one service in one region.
    #[metric(const_labels(service = "orders", region = "eu-west"))]
    counter ORDERS_TAKEN_TOTAL { channel: &str };
}

#[promlink::timed(buckets = LATENCY_BUCKETS)]
fn compact() {}

#[test]
fn shared_bucket_arrays_and_constant_labels() {
    READ_SECONDS.observe(0.01);
    WRITE_SECONDS.labels("orders").observe(1.0);
    compact();
    assert_eq!(READ_SECONDS.bounds(), &LATENCY_BUCKETS);
    let text = Registry::global().encode_to_string(Format::Text);
    for line in [
        "read_seconds_bucket{le=\"0.05\"} 1.0\n",
        "write_seconds_bucket{table=\"orders\",le=\"5.0\"} 1.0\n",
        "function_duration_seconds_bucket{function=\"compact\",module=\"declare\",le=\"0.005\"} 1.0\n",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    ORDERS_TAKEN_TOTAL.labels("web").inc();
    assert_eq!(
        sample(
            "orders_taken_total",
            &[
                ("service", "orders"),
                ("region", "eu-west"),
                ("channel", "web")
            ]
        ),
        Some(1.0)
    );
}

declare_metrics! {
    /// A job's phase.
    stateset JOB_PHASE states ["queued", "running"];
}

#[test]
#[should_panic(
    expected = r#"unknown state "Running": the states of this state set are ["queued", "running"]"#
)]
fn an_unknown_state_names_the_states_there_are() {
    JOB_PHASE.set_state("Running");
}

/// A type of the service's own, named as the metric's static would be in CamelCase.
#[allow(dead_code)]
struct Workers {
    pool: String,
}

declare_metrics! {
    /// Busy workers, by pool: its generated type is `WorkersMetric`, clear of `Workers`.
    gauge WORKERS { pool: &str };
}

#[test]
fn a_labelled_static_beside_a_type_of_its_camel_case_name() {
    let workers = Workers {
        pool: "io".to_owned(),
    };
    WORKERS.labels(&workers.pool).set(3.0);
    let _: &WorkersMetric = &WORKERS;
    assert_eq!(sample("workers", &[("pool", "io")]), Some(3.0));
}

declare_metrics! {
    /// Requests, with a label declared `&'static str` (as the design sketch writes it).
    counter STATIC_LABEL_REQUESTS_TOTAL { endpoint: &'static str };
}

#[test]
fn a_static_str_label_takes_a_borrowed_value() {
    let path = String::from("/api/orders");
    STATIC_LABEL_REQUESTS_TOTAL.labels(&path).inc();
    STATIC_LABEL_REQUESTS_TOTAL
        .with(StaticLabelRequestsTotalLabels { endpoint: &path })
        .inc();
    assert_eq!(
        sample(
            "static_label_requests_total",
            &[("endpoint", "/api/orders")]
        ),
        Some(2.0)
    );
}
