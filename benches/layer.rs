//! The request metrics layer, per request: a tower service behind `MetricsLayer`, fed
//! requests over 40 route templates x 3 methods x 2 statuses, drawn from a skewed
//! (Zipf-like) distribution, as a web service's traffic is.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response, StatusCode};
use promlink::tower::{HttpMetrics, MetricsLayer, RouteTemplate};
use promlink::Registry;
use tower_layer::Layer;
use tower_service::Service;

fn requests() -> Vec<Request<()>> {
    let templates: Vec<String> = (0..40)
        .map(|i| format!("/api/v1/resource{i}/{{id}}"))
        .collect();
    let methods = ["GET", "POST", "DELETE"];
    // A fixed pseudo-random sequence, skewed towards the first templates.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // r cubed over 1000 cubed: most requests on the first few templates.
            let r = (state >> 40) % 1000;
            let template = usize::try_from(r * r * r * 40 / 1_000_000_000).unwrap();
            let method = methods[usize::try_from(state % 3).unwrap()];
            let mut request = Request::builder()
                .method(method)
                .uri("/api/v1/x/17")
                .body(())
                .unwrap();
            request
                .extensions_mut()
                .insert(RouteTemplate::new(templates[template].clone()));
            request
        })
        .collect()
}

fn layer(c: &mut Criterion) {
    let registry = Box::leak(Box::new(Registry::new()));
    let metrics = HttpMetrics::register(registry).unwrap();
    let mut service =
        MetricsLayer::with_metrics(metrics).layer(tower::service_fn(|request: Request<()>| {
            let status = if request.method() == http::Method::DELETE {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            let mut response = Response::new(());
            *response.status_mut() = status;
            std::future::ready(Ok::<_, std::convert::Infallible>(response))
        }));
    let all = requests();
    let mut cx = Context::from_waker(Waker::noop());
    let mut g = c.benchmark_group("tower_layer");
    let mut i = 0;
    g.bench_function("request through MetricsLayer (skewed, 240 series)", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % all.len();
                let template = all[i].extensions().get::<RouteTemplate>().unwrap().clone();
                let mut r = Request::builder()
                    .method(all[i].method().clone())
                    .uri("/x")
                    .body(())
                    .unwrap();
                r.extensions_mut().insert(template);
                r
            },
            |request| {
                let future = pin!(service.call(request));
                match future.poll(&mut cx) {
                    Poll::Ready(response) => black_box(response.unwrap()),
                    Poll::Pending => panic!("the inner service answers at once"),
                }
            },
            criterion::BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, layer);
criterion_main!(benches);
