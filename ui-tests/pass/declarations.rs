//! Every kind of declaration, each label shape, both lookup forms, a renamed crate path.

#![deny(warnings, clippy::pedantic)]

use promlink::{declare_metrics, LabelValue};

#[derive(Clone, Copy, LabelValue)]
pub enum Method {
    #[label(rename = "GET")]
    Get,
    #[label(rename = "POST")]
    Post,
}

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: Method, endpoint: &str, status: u16 };
    /// Logins by user, at most 500 of them (2 methods fit well within).
    #[metric(max_series = 500)]
    pub counter LOGINS_TOTAL { method: Method, user: String };
    /// Requests by method and success: both fixed, so a dense family.
    pub counter OUTCOMES_TOTAL { method: Method, ok: bool };
    /// Current active connections.
    pub gauge ACTIVE_CONNECTIONS;
    /// Request duration in seconds.
    #[metric(unit = "seconds")]
    pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: String } buckets [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    /// Default buckets.
    pub(crate) histogram DEFAULT_SECONDS;
    /// Native buckets only, at the default schema.
    pub histogram NATIVE_SECONDS native;
    /// Classic and native buckets, labelled.
    pub histogram DUAL_SECONDS { endpoint: &str } buckets [0.1, 1.0] native(factor = 1.1, zero_threshold = 1e-9, max_buckets = 100);
    /// Negative values, a coarse schema.
    pub histogram TEMPERATURE_CELSIUS native(schema = -2);
    /// Payload sizes.
    summary PAYLOAD_BYTES { #[unbounded] tenant_id: u32 };
    /// Latency quantiles over the last ten minutes.
    pub summary RPC_DURATION_SECONDS { method: &str } quantiles [0.5, 0.9, 0.99, 1];
    /// Build information.
    pub info BUILD_INFO;
    /// Task state.
    pub stateset TASK_STATE states ["starting", "running", "stopped"];
    /// A name given explicitly.
    #[metric(name = "renamed_total", help = "Overrides the doc comment.")]
    pub counter SOMETHING_TOTAL;
    /// A hot counter, striped over cache lines; labelled and dense ones too.
    #[metric(sharded)]
    pub counter HOT_TOTAL;
    /// Hot and labelled.
    #[metric(sharded)]
    pub counter HOT_BY_PATH_TOTAL { path: &str };
    /// Hot and dense.
    #[metric(sharded, help = "Hot, by method.")]
    pub counter HOT_BY_METHOD_TOTAL { method: Method };
}

mod renamed {
    extern crate promlink as metrics;

    metrics::declare_metrics! {
        crate = metrics;
        /// Declared through a renamed dependency.
        pub counter RENAMED_PATH_TOTAL;
    }
}

fn main() {
    HTTP_REQUESTS_TOTAL.labels(Method::Get, "/api/orders", 200).inc();
    HTTP_REQUESTS_TOTAL.with(HttpRequestsTotalLabels { method: Method::Post, endpoint: "/api/orders", status: 201 }).inc();
    assert!(HTTP_REQUESTS_TOTAL.remove(Method::Post, "/api/orders", 201));
    OUTCOMES_TOTAL.labels(Method::Get, true).inc();
    ACTIVE_CONNECTIONS.set(3.0);
    HTTP_REQUEST_DURATION_SECONDS.labels("/".to_owned()).observe(0.2);
    DEFAULT_SECONDS.observe(0.2);
    NATIVE_SECONDS.observe(0.2);
    RPC_DURATION_SECONDS.labels("get").observe(0.25);
    assert_eq!(RPC_DURATION_SECONDS.labels("get").quantile_objectives(), [0.5, 0.9, 0.99, 1.0]);
    DUAL_SECONDS.labels("/").observe(0.2);
    TEMPERATURE_CELSIUS.observe(-3.0);
    assert_eq!(NATIVE_SECONDS.native_snapshot().unwrap().schema, 3);
    assert_eq!(TEMPERATURE_CELSIUS.native_snapshot().unwrap().negative, [(1, 1)]);
    let spec = DUAL_SECONDS.labels("/").native_buckets().unwrap();
    assert_eq!((spec.get_schema(), spec.get_zero_threshold(), spec.get_max_buckets()), (3, 1e-9, 100));
    PAYLOAD_BYTES.labels(7).observe(100.0);
    BUILD_INFO.set(&[("version", "1.0.0")]).unwrap();
    TASK_STATE.set_state("running");
    SOMETHING_TOTAL.inc();
    HOT_TOTAL.inc();
    HOT_BY_PATH_TOTAL.labels("/").inc_by(2.0);
    HOT_BY_METHOD_TOTAL.labels(Method::Get).inc();
    renamed::RENAMED_PATH_TOTAL.inc();
    let text = promlink::Registry::global().encode_to_string(promlink::Format::OpenMetrics);
    assert!(text.contains("outcomes_total{method=\"POST\",ok=\"false\"} 0.0\n"), "{text}");
    assert!(text.contains("# HELP renamed Overrides the doc comment.\n"), "{text}");
    assert!(text.contains("# UNIT http_request_duration_seconds seconds\n"), "{text}");
}
