//! Where exemplars come from when the code that counts does not pass one: the trace of
//! the current call, as the program's tracing knows it. `#[counted]`, `#[timed]` and the
//! request metrics layer ask the source set with [`set_exemplar_source`] at each call
//! they record, once a scrape has asked for a format that carries exemplars
//! (OpenMetrics or protobuf): a program scraped in text 0.0.4 only, or never, pays one
//! relaxed load a call and takes none.
//!
//! A source set by the program wins; otherwise the first one linked in
//! [`PROMLINK_EXEMPLAR_SOURCES_V0_1`] is used (promlink's `opentelemetry` feature puts
//! the current OpenTelemetry span's there, so that turning the feature on is enough).

use core::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use linkme::distributed_slice;

/// The exemplar of the current call: a trace id (and a span id), as a tracing system
/// knows the call.
///
/// ```
/// use promlink_core::{set_exemplar_source, ExemplarSource};
///
/// /// The request id a (hypothetical) framework keeps for the current thread.
/// struct RequestIds;
///
/// thread_local! {
///     static REQUEST_ID: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
/// }
///
/// impl ExemplarSource for RequestIds {
///     fn current(&self, with: &mut dyn FnMut(&[(&str, &str)])) {
///         REQUEST_ID.with_borrow(|id| {
///             if let Some(id) = id {
///                 with(&[("request_id", id)]);
///             }
///         });
///     }
/// }
///
/// set_exemplar_source(&RequestIds).unwrap();
/// ```
pub trait ExemplarSource: Send + Sync {
    /// Calls `with` with the labels of the current call's exemplar, as
    /// `[("trace_id", ..)]`, or returns without calling it when there is none (no trace,
    /// or one not sampled). Labels over
    /// [`MAX_EXEMPLAR_LABEL_CHARS`](crate::MAX_EXEMPLAR_LABEL_CHARS) are refused, and
    /// the value is counted without them.
    #[allow(clippy::type_complexity)] // the labels, as `inc_with_exemplar` takes them
    fn current(&self, with: &mut dyn FnMut(&[(&str, &str)]));
}

static SOURCE: OnceLock<&'static dyn ExemplarSource> = OnceLock::new();

/// Sources that integrations link in, used when the program set none: the first one
/// wins. The version in the name keeps two promlink versions apart, as
/// [`PROMLINK_METRICS_V0_1`](crate::__private::PROMLINK_METRICS_V0_1) does.
#[distributed_slice]
pub static PROMLINK_EXEMPLAR_SOURCES_V0_1: [&'static dyn ExemplarSource];

/// Whether a scrape has asked for a format that carries exemplars.
static WANTED: AtomicBool = AtomicBool::new(false);

/// Sets the process's exemplar source, once, at start-up. It replaces the source an
/// integration feature links in (promlink's `opentelemetry`).
///
/// # Errors
///
/// [`ExemplarSourceSet`] if a source was set before; the first one stays.
pub fn set_exemplar_source(source: &'static dyn ExemplarSource) -> Result<(), ExemplarSourceSet> {
    SOURCE.set(source).map_err(|_| ExemplarSourceSet)
}

/// A second [`set_exemplar_source`]: the first source stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExemplarSourceSet;

impl fmt::Display for ExemplarSourceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an exemplar source was already set; the first one stays")
    }
}

impl std::error::Error for ExemplarSourceSet {}

/// Notes that a scrape asked for a format that carries exemplars.
pub(crate) fn exemplars_wanted() {
    if !WANTED.load(Ordering::Relaxed) {
        WANTED.store(true, Ordering::Relaxed);
    }
}

/// Calls `with_exemplar` with the current call's exemplar, when a scrape could show it and
/// the source has one; `plain` otherwise.
#[inline]
pub(crate) fn traced(plain: impl FnOnce(), with_exemplar: impl FnOnce(&[(&str, &str)])) {
    if WANTED.load(Ordering::Relaxed) {
        let source = SOURCE
            .get()
            .copied()
            .or_else(|| PROMLINK_EXEMPLAR_SOURCES_V0_1.first().copied());
        if let Some(source) = source {
            let mut with_exemplar = Some(with_exemplar);
            source.current(&mut |labels| {
                if let Some(record) = with_exemplar.take() {
                    record(labels);
                }
            });
            if with_exemplar.is_none() {
                return;
            }
        }
    }
    plain();
}
