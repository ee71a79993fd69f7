//! Exemplars from OpenTelemetry: with this feature on, `#[counted]`, `#[timed]` and the
//! request metrics layer attach the current span's `trace_id` and `span_id` to what they
//! record, when the span is sampled.
//!
//! Nothing needs calling: the feature links [`CurrentSpan`] in as the process's exemplar
//! source (a source given to [`set_exemplar_source`](crate::set_exemplar_source)
//! replaces it). It reads the context of the `opentelemetry` crate 0.33, the one current
//! `tracing-opentelemetry` activates when a `tracing` span is entered, so both
//! `tracer.in_span(..)` and `#[tracing::instrument]` are seen.
//!
//! An exemplar is taken only once a scrape has asked for OpenMetrics or protobuf (the
//! formats that carry one), and only for a sampled span: an unsampled or absent span
//! costs a thread-local read and adds nothing.
//!
//! ```
//! use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
//! use opentelemetry::Context;
//! use promlink::{counted, Format, Registry};
//!
//! #[counted]
//! fn charge() {}
//!
//! // Prometheus asked for OpenMetrics once: exemplars are taken from now on.
//! Registry::global().encode_to_string(Format::OpenMetrics);
//!
//! let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
//! let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
//! let sampled = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
//! let _in_span = Context::new().with_remote_span_context(sampled).attach();
//! charge();
//!
//! let text = Registry::global().encode_to_string(Format::OpenMetrics);
//! assert!(text.contains(r#"# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1"#));
//! ```

use ::opentelemetry::trace::TraceContextExt;
use ::opentelemetry::Context;
use promlink_core::ExemplarSource;

/// The exemplar source of this feature: the `trace_id` (32 lowercase hex digits) and
/// `span_id` (16) of the current OpenTelemetry span, when it is valid and sampled.
///
/// It is in use by itself; name it to wrap or compose it in a source of your own:
///
/// ```
/// use promlink::opentelemetry::CurrentSpan;
/// use promlink::ExemplarSource;
///
/// let mut seen = false;
/// CurrentSpan.current(&mut |_labels| seen = true);
/// assert!(!seen, "no span, no exemplar");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CurrentSpan;

impl ExemplarSource for CurrentSpan {
    fn current(&self, with: &mut dyn FnMut(&[(&str, &str)])) {
        Context::map_current(|context| {
            let span = context.span();
            let span = span.span_context();
            if !(span.is_sampled() && span.is_valid()) {
                return;
            }
            let mut trace_id = [0; 32];
            let mut span_id = [0; 16];
            with(&[
                ("trace_id", hex(&span.trace_id().to_bytes(), &mut trace_id)),
                ("span_id", hex(&span.span_id().to_bytes(), &mut span_id)),
            ]);
        });
    }
}

#[crate::__private::linkme::distributed_slice(crate::__private::PROMLINK_EXEMPLAR_SOURCES_V0_1)]
#[linkme(crate = crate::__private::linkme)]
static CURRENT_SPAN: &'static dyn ExemplarSource = &CurrentSpan;

/// `bytes` in lowercase hex, written into `out` (twice as long), without allocating.
fn hex<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    // SAFETY: only ASCII digits were written (validating them cost a fifth of the
    // source's time).
    unsafe { core::str::from_utf8_unchecked(out) }
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_is_lowercase_and_padded() {
        let mut out = [0; 8];
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff], &mut out), "000fa0ff");
    }
}
