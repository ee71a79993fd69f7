//! A user's exemplar source: `#[counted]` and `#[timed]` attach the current call's trace
//! id by themselves, once a scrape has asked for a format that carries exemplars, and
//! only for calls that have one.

use std::cell::RefCell;

use promlink::{counted, set_exemplar_source, timed, ExemplarSource, Format, Registry};

thread_local! {
    /// The trace of the current call, as a tracing system would keep it.
    static TRACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Reads [`TRACE`].
struct CurrentTrace;

impl ExemplarSource for CurrentTrace {
    fn current(&self, with: &mut dyn FnMut(&[(&str, &str)])) {
        TRACE.with_borrow(|trace| {
            if let Some(trace) = trace {
                with(&[("trace_id", trace)]);
            }
        });
    }
}

/// Handles one request.
#[counted]
#[timed(buckets = [0.1, 1.0])]
fn handle() -> u32 {
    7
}

/// Runs `f` as part of trace `trace`.
fn in_trace<R>(trace: &str, f: impl FnOnce() -> R) -> R {
    TRACE.with_borrow_mut(|t| *t = Some(trace.to_owned()));
    let result = f();
    TRACE.with_borrow_mut(|t| *t = None);
    result
}

fn openmetrics() -> String {
    Registry::global().encode_to_string(Format::OpenMetrics)
}

/// The lines of `text` about `handle`'s series.
fn handle_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("function=\"handle\"") && !l.contains("_created"))
        .collect()
}

#[test]
fn counted_and_timed_take_the_sources_exemplar() {
    set_exemplar_source(&CurrentTrace).unwrap();
    assert!(set_exemplar_source(&CurrentTrace).is_err(), "set once");

    // No scrape has asked for exemplars yet: none is taken.
    in_trace("a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0", handle);
    let text = Registry::global().encode_to_string(Format::Text);
    assert!(
        text.contains("function_calls_total{function=\"handle\""),
        "{text}"
    );
    let before = openmetrics();
    assert!(
        handle_lines(&before).iter().all(|l| !l.contains(" # {")),
        "{before}"
    );

    // After an OpenMetrics scrape: a call in a trace carries its id, on the counter of its
    // outcome and on the bucket of its duration.
    in_trace("4bf92f3577b34da6a3ce929d0e0e4736", handle);
    let after = openmetrics();
    let lines = handle_lines(&after);
    let traced = |prefix: &str| {
        lines.iter().any(|l| {
            l.starts_with(prefix) && l.contains("# {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"}")
        })
    };
    assert!(traced("function_calls_total{"), "{after}");
    assert!(traced("function_duration_seconds_bucket{"), "{after}");

    // A call outside any trace adds no exemplar: the latest stays.
    handle();
    let last = openmetrics();
    assert!(
        handle_lines(&last)
            .iter()
            .filter(|l| l.contains(" # {"))
            .all(|l| l.contains("4bf92f3577b34da6a3ce929d0e0e4736")),
        "{last}"
    );
    assert_eq!(
        Registry::global().get_sample_value(
            "function_calls_total",
            &[
                ("function", "handle"),
                ("module", module_path!()),
                ("result", "ok")
            ]
        ),
        Some(3.0)
    );
}
