//! The tower layer on an axum router and on a plain tower service: requests are labelled
//! by the matched route template (never the raw path), by method and status, timed, and
//! tracked in flight; the `/metrics` route serves the registry.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use promlink::tower::{HttpMetrics, HttpMetricsError, MetricsLayer, RouteTemplate};
use promlink::Registry;
use tower::{Layer, Service, ServiceExt};

fn app() -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(|| async { "an order" }).post(|| async { StatusCode::CREATED }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                // The gauge as this request sees it, while it is in flight.
                let in_flight = Registry::global().get_sample_value(
                    "http_server_active_requests",
                    &[("method", "GET"), ("endpoint", "/slow")],
                );
                format!("{in_flight:?}")
            }),
        )
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(MetricsLayer::new())
        .route("/metrics", promlink::axum::metrics_route())
}

async fn send(app: &Router, method: &str, uri: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn sample(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    Registry::global().get_sample_value(name, labels)
}

#[tokio::test]
async fn axum_requests_are_labelled_by_route_template() {
    let app = app();
    assert_eq!(send(&app, "GET", "/orders/1").await.0, StatusCode::OK);
    assert_eq!(send(&app, "GET", "/orders/2").await.0, StatusCode::OK);
    assert_eq!(send(&app, "POST", "/orders/3").await.0, StatusCode::CREATED);
    assert_eq!(
        send(&app, "GET", "/fail").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        send(&app, "GET", "/no/such/17").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, seen_in_flight) = send(&app, "GET", "/slow").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen_in_flight, "Some(1.0)");

    let requests = |method, endpoint, status| {
        sample(
            "http_server_requests_total",
            &[
                ("method", method),
                ("endpoint", endpoint),
                ("status", status),
            ],
        )
    };
    assert_eq!(requests("GET", "/orders/{id}", "200"), Some(2.0));
    assert_eq!(requests("POST", "/orders/{id}", "201"), Some(1.0));
    assert_eq!(requests("GET", "/fail", "500"), Some(1.0));
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(requests("GET", "/slow", "200"), Some(1.0));

    let exposition = Registry::global().encode_to_string(promlink::Format::Text);
    for raw in ["/orders/1", "/orders/2", "/no/such/17"] {
        assert!(
            !exposition.contains(&format!("\"{raw}\"")),
            "a raw path became a label value: {exposition}"
        );
    }

    let duration = |suffix: &str, endpoint| {
        sample(
            &format!("http_server_request_duration_seconds{suffix}"),
            &[("method", "GET"), ("endpoint", endpoint)],
        )
    };
    assert_eq!(duration("_count", "/orders/{id}"), Some(2.0));
    assert_eq!(duration("_count", "/slow"), Some(1.0));
    assert!(duration("_sum", "/slow").unwrap() >= 0.05);
    assert_eq!(
        sample(
            "http_server_active_requests",
            &[("method", "GET"), ("endpoint", "/slow")]
        ),
        Some(0.0)
    );

    // The metrics route, added after the layer, serves the registry and is not counted.
    let (status, body) = send(&app, "GET", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("# TYPE http_server_requests_total counter\n"),
        "{body}"
    );
    assert!(
        body.contains(
            "http_server_requests_total{method=\"GET\",endpoint=\"/orders/{id}\",status=\"200\"} 2.0\n"
        ),
        "{body}"
    );
    assert_eq!(
        send(&app, "POST", "/metrics").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert!(!body.contains("endpoint=\"/metrics\""), "{body}");
}

#[tokio::test]
async fn any_tower_service_with_its_own_registry() {
    let registry = Registry::new();
    let layer = MetricsLayer::with_metrics(HttpMetrics::register(&registry).unwrap());
    let service = tower::service_fn(|request: Request<()>| async move {
        match request.uri().path() {
            "/broken" => Err("the backend is down"),
            "/hang" => std::future::pending::<Result<_, &str>>().await,
            _ => Ok::<_, &str>(axum::http::Response::new(())),
        }
    });
    let mut service = layer.layer(service);
    let request = |path: &str, template: Option<&'static str>| {
        let mut request = Request::get(path).body(()).unwrap();
        if let Some(template) = template {
            request
                .extensions_mut()
                .insert(RouteTemplate::new(template));
        }
        request
    };

    let send = |path, template| service.clone().oneshot(request(path, template));
    send("/users/7", Some("/users/:id")).await.unwrap();
    send("/broken", Some("/broken")).await.unwrap_err();
    send("/users/7/avatar", None).await.unwrap();
    // A request whose client goes away: in flight while pending, then not counted.
    let hanging = service
        .ready()
        .await
        .unwrap()
        .call(request("/hang", Some("/hang")));
    let in_flight = || {
        registry.get_sample_value(
            "http_server_active_requests",
            &[("method", "GET"), ("endpoint", "/hang")],
        )
    };
    assert_eq!(in_flight(), Some(1.0));
    assert!(tokio::time::timeout(Duration::from_millis(10), hanging)
        .await
        .is_err());
    assert_eq!(in_flight(), Some(0.0));

    let requests = |endpoint, status| {
        registry.get_sample_value(
            "http_server_requests_total",
            &[
                ("method", "GET"),
                ("endpoint", endpoint),
                ("status", status),
            ],
        )
    };
    assert_eq!(requests("/users/:id", "200"), Some(1.0));
    assert_eq!(requests("/broken", "500"), Some(1.0));
    assert_eq!(requests("unmatched", "200"), Some(1.0));
    assert_eq!(requests("/hang", "200"), None);
    assert_eq!(requests("/hang", "500"), None);
}

fn conflicting_name(error: HttpMetricsError) -> String {
    match error {
        HttpMetricsError::Registration(e) => e.name().to_owned(),
        other => panic!("not a conflict: {other}"),
    }
}

#[test]
fn the_families_are_registered_all_or_none() {
    let registry = Registry::new();
    HttpMetrics::register(&registry).unwrap();
    assert_eq!(
        conflicting_name(HttpMetrics::register(&registry).unwrap_err()),
        "http_server_requests"
    );

    // A registry that already has one of the three names keeps only its own.
    let registry = Registry::new();
    let own = std::sync::Arc::new(promlink::Metric::new(
        "http_server_active_requests",
        "Mine.",
        promlink::Gauge::new(),
    ));
    registry.register(own).unwrap();
    assert_eq!(
        conflicting_name(HttpMetrics::register(&registry).unwrap_err()),
        "http_server_active_requests"
    );
    let exposition = registry.encode_to_string(promlink::Format::Text);
    assert_eq!(
        exposition,
        "# HELP http_server_active_requests Mine.\n# TYPE http_server_active_requests gauge\nhttp_server_active_requests 0.0\n"
    );
}

/// A service that panics in `call`, before it returns a future.
#[derive(Clone)]
struct PanicsInCall;

impl Service<Request<()>> for PanicsInCall {
    type Response = axum::http::Response<()>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        panic!("the inner service broke");
    }
}

#[test]
fn a_panic_in_the_inner_call_leaves_the_in_flight_gauge() {
    let registry = Registry::new();
    let layer = MetricsLayer::with_metrics(HttpMetrics::register(&registry).unwrap());
    let mut service = layer.layer(PanicsInCall);
    for _ in 0..3 {
        let mut request = Request::get("/x").body(()).unwrap();
        request.extensions_mut().insert(RouteTemplate::new("/x"));
        let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(service.call(request));
        }));
        assert!(call.is_err());
    }
    assert_eq!(
        registry.get_sample_value(
            "http_server_active_requests",
            &[("method", "GET"), ("endpoint", "/x")]
        ),
        Some(0.0)
    );
}

mod declared {
    use promlink::declare_metrics;

    declare_metrics! {
        /// Requests, labelled in an order of the service's own.
        pub counter LAYER_FED_REQUESTS_TOTAL { status: u16, method: &str };
        /// Request duration in seconds, by endpoint only.
        pub histogram LAYER_FED_DURATION_SECONDS { endpoint: &str } buckets [0.01, 0.1, 1.0];
        /// Requests in flight, by endpoint.
        pub gauge LAYER_FED_IN_FLIGHT { endpoint: &str };
    }
}

#[tokio::test]
async fn the_layer_feeds_declared_metrics_by_label_name() {
    use declared::*;
    // The declared metrics are in the global registry already; `own` would get the
    // layer's own families, and there are none.
    let own = Registry::new();
    let metrics = HttpMetrics::builder()
        .requests(&LAYER_FED_REQUESTS_TOTAL)
        .duration(&LAYER_FED_DURATION_SECONDS)
        .in_flight(&LAYER_FED_IN_FLIGHT)
        .register(&own)
        .unwrap();
    let service = MetricsLayer::with_metrics(metrics).layer(tower::service_fn(
        |request: Request<()>| async move {
            let mut response = axum::http::Response::new(());
            if request.uri().path() == "/missing" {
                *response.status_mut() = StatusCode::NOT_FOUND;
            }
            Ok::<_, std::convert::Infallible>(response)
        },
    ));
    for (path, template) in [
        ("/a/1", "/a/:id"),
        ("/a/2", "/a/:id"),
        ("/missing", "/missing"),
    ] {
        let mut request = Request::get(path).body(()).unwrap();
        request
            .extensions_mut()
            .insert(RouteTemplate::new(template));
        service.clone().oneshot(request).await.unwrap();
    }
    assert_eq!(LAYER_FED_REQUESTS_TOTAL.labels(200, "GET").get(), 2.0);
    assert_eq!(LAYER_FED_REQUESTS_TOTAL.labels(404, "GET").get(), 1.0);
    let snapshot = LAYER_FED_DURATION_SECONDS.labels("/a/:id").snapshot();
    assert_eq!((snapshot.count, snapshot.cumulative_counts.len()), (2, 3));
    assert_eq!(LAYER_FED_IN_FLIGHT.labels("/a/:id").get(), 0.0);
    assert_eq!(own.encode_to_string(promlink::Format::Text), "");
}

/// Built by hand, not declared: the compiler cannot see its labels, `register` checks them.
static HAND_BUILT_ROUTES_TOTAL: promlink::Metric<promlink::Family<promlink::Counter, 1>> =
    promlink::Metric::new(
        "hand_built_routes_total",
        "A counter with a label the layer cannot fill.",
        promlink::Family::new(["route"], promlink::Counter::new()),
    );

static HAND_BUILT_STATUS_IN_FLIGHT: promlink::Metric<promlink::Family<promlink::Gauge, 1>> =
    promlink::Metric::new(
        "hand_built_status_in_flight",
        "A gauge labelled by status, which is not known while a request is in flight.",
        promlink::Family::new(["status"], promlink::Gauge::new()),
    );

// Declared metrics with such labels do not compile: ui-tests/fail-tower/.
#[test]
fn a_hand_built_metric_with_labels_the_layer_cannot_fill_is_refused() {
    let error = HttpMetrics::builder()
        .requests(&HAND_BUILT_ROUTES_TOTAL)
        .register(&Registry::new())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`hand_built_routes` has a label `route` that the request metrics layer cannot fill: its \
         labels must be among `method`, `endpoint`, `status`"
    );
    let error = HttpMetrics::builder()
        .in_flight(&HAND_BUILT_STATUS_IN_FLIGHT)
        .register(&Registry::new())
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("its labels must be among `method`, `endpoint`"),
        "{error}"
    );
}

#[test]
fn the_layers_own_families_take_a_prefix_and_buckets() {
    let registry = Registry::new();
    HttpMetrics::builder()
        .prefix("orders_http")
        .buckets(&[0.5, 1.0])
        .without_in_flight()
        .register(&registry)
        .unwrap();
    let text = registry.encode_to_string(promlink::Format::Text);
    assert!(
        text.contains("# TYPE orders_http_requests_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE orders_http_request_duration_seconds histogram\n"),
        "{text}"
    );
    assert!(!text.contains("active_requests"), "{text}");
    // The same names are then taken; a second layer may take another prefix.
    assert!(HttpMetrics::builder()
        .prefix("orders_http")
        .register(&registry)
        .is_err());
    HttpMetrics::builder()
        .prefix("admin_http")
        .register(&registry)
        .unwrap();
    let error = HttpMetrics::builder()
        .prefix("not a prefix")
        .register(&registry)
        .unwrap_err();
    assert!(matches!(error, HttpMetricsError::Prefix(_)), "{error}");
}

#[test]
#[should_panic(expected = "bucket")]
fn unsorted_layer_buckets_panic_where_they_are_given() {
    let _ = HttpMetrics::builder().buckets(&[1.0, 0.5]);
}
