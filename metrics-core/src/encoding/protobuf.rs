//! The protobuf exposition: `io.prometheus.client.MetricFamily` messages (`client_model`'s
//! `metrics.proto`), each after its length, written straight into the scrape's buffer.
//!
//! A hand-written encoder rather than a protobuf crate's generated structs: those own
//! every string, so a scrape of 100,000 series would allocate each label value again.
//! Here a nested message is written in place after a one-byte length, which is widened
//! when the message turns out longer than 127 bytes. Tests decode the output with
//! Python's `protobuf` package, which knows nothing of this code.

use crate::NativeSnapshot;

/// The wire types this encoder writes.
#[derive(Clone, Copy)]
enum Wire {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
}

/// Field numbers of `metrics.proto`.
pub(crate) mod field {
    pub(crate) const FAMILY_NAME: u32 = 1;
    pub(crate) const FAMILY_HELP: u32 = 2;
    pub(crate) const FAMILY_TYPE: u32 = 3;
    pub(crate) const FAMILY_METRIC: u32 = 4;
    pub(crate) const FAMILY_UNIT: u32 = 5;

    pub(crate) const METRIC_LABEL: u32 = 1;
    pub(crate) const METRIC_GAUGE: u32 = 2;
    pub(crate) const METRIC_COUNTER: u32 = 3;
    pub(crate) const METRIC_SUMMARY: u32 = 4;
    pub(crate) const METRIC_UNTYPED: u32 = 5;
    pub(crate) const METRIC_HISTOGRAM: u32 = 7;

    pub(crate) const LABEL_NAME: u32 = 1;
    pub(crate) const LABEL_VALUE: u32 = 2;

    /// `Gauge.value`, `Counter.value`, `Untyped.value`.
    pub(crate) const VALUE: u32 = 1;
    pub(crate) const COUNTER_EXEMPLAR: u32 = 2;
    pub(crate) const COUNTER_CREATED: u32 = 3;

    pub(crate) const SUMMARY_COUNT: u32 = 1;
    pub(crate) const SUMMARY_SUM: u32 = 2;
    pub(crate) const SUMMARY_QUANTILE: u32 = 3;
    pub(crate) const SUMMARY_CREATED: u32 = 4;

    pub(crate) const QUANTILE_QUANTILE: u32 = 1;
    pub(crate) const QUANTILE_VALUE: u32 = 2;

    pub(crate) const HISTOGRAM_COUNT: u32 = 1;
    pub(crate) const HISTOGRAM_SUM: u32 = 2;
    pub(crate) const HISTOGRAM_BUCKET: u32 = 3;
    pub(crate) const HISTOGRAM_SCHEMA: u32 = 5;
    pub(crate) const HISTOGRAM_ZERO_THRESHOLD: u32 = 6;
    pub(crate) const HISTOGRAM_ZERO_COUNT: u32 = 7;
    pub(crate) const HISTOGRAM_NEGATIVE_SPAN: u32 = 9;
    pub(crate) const HISTOGRAM_NEGATIVE_DELTA: u32 = 10;
    pub(crate) const HISTOGRAM_POSITIVE_SPAN: u32 = 12;
    pub(crate) const HISTOGRAM_POSITIVE_DELTA: u32 = 13;
    pub(crate) const HISTOGRAM_CREATED: u32 = 15;

    pub(crate) const SPAN_OFFSET: u32 = 1;
    pub(crate) const SPAN_LENGTH: u32 = 2;

    pub(crate) const BUCKET_CUMULATIVE_COUNT: u32 = 1;
    pub(crate) const BUCKET_UPPER_BOUND: u32 = 2;
    pub(crate) const BUCKET_EXEMPLAR: u32 = 3;

    pub(crate) const EXEMPLAR_LABEL: u32 = 1;
    pub(crate) const EXEMPLAR_VALUE: u32 = 2;
    pub(crate) const EXEMPLAR_TIMESTAMP: u32 = 3;

    pub(crate) const TIMESTAMP_SECONDS: u32 = 1;
    pub(crate) const TIMESTAMP_NANOS: u32 = 2;
}

/// `MetricType` of `metrics.proto`.
pub(crate) mod kind {
    pub(crate) const COUNTER: u64 = 0;
    pub(crate) const GAUGE: u64 = 1;
    pub(crate) const SUMMARY: u64 = 2;
    pub(crate) const UNTYPED: u64 = 3;
    pub(crate) const HISTOGRAM: u64 = 4;
}

/// Appends `value` as a varint (LEB128: seven bits a byte, low first).
pub(crate) fn varint(out: &mut Vec<u8>, value: u64) {
    let (bytes, used) = varint_bytes(value);
    out.extend_from_slice(&bytes[..used]);
}

/// `value` as a varint: the bytes, and how many of them.
fn varint_bytes(mut value: u64) -> ([u8; 10], usize) {
    let mut bytes = [0; 10];
    let mut used = 0;
    while value >= 0x80 {
        #[allow(clippy::cast_possible_truncation)] // the low seven bits
        let low = value as u8;
        bytes[used] = low | 0x80;
        value >>= 7;
        used += 1;
    }
    #[allow(clippy::cast_possible_truncation)] // below 0x80
    let last = value as u8;
    bytes[used] = last;
    (bytes, used + 1)
}

fn key(out: &mut Vec<u8>, field: u32, wire: Wire) {
    varint(out, u64::from(field) << 3 | wire as u64);
}

/// Appends field `field` as a varint.
pub(crate) fn uint(out: &mut Vec<u8>, field: u32, value: u64) {
    key(out, field, Wire::Varint);
    varint(out, value);
}

/// Appends field `field` as a `sint32` or `sint64` (zigzag: small magnitudes, short).
pub(crate) fn sint(out: &mut Vec<u8>, field: u32, value: i64) {
    #[allow(clippy::cast_sign_loss)] // the zigzag mapping reinterprets the bits
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    uint(out, field, zigzag);
}

/// Appends field `field` as a `double`.
pub(crate) fn double(out: &mut Vec<u8>, field: u32, value: f64) {
    key(out, field, Wire::Fixed64);
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends field `field` as `string` or `bytes`.
pub(crate) fn bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(out, field, Wire::Len);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// Appends field `field` as a message that `write` appends.
pub(crate) fn message(out: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    key(out, field, Wire::Len);
    let start = open_length(out);
    write(out);
    close_length(out, start);
}

/// Reserves a byte for the length of what follows; returns where it is.
pub(crate) fn open_length(out: &mut Vec<u8>) -> usize {
    out.push(0);
    out.len() - 1
}

/// Writes the length of what followed [`open_length`] at `start`, widening it if needed.
pub(crate) fn close_length(out: &mut Vec<u8>, start: usize) {
    let length = out.len() - start - 1;
    if let Ok(short @ 0..0x80) = u8::try_from(length) {
        out[start] = short;
    } else {
        let (prefix, used) = varint_bytes(length as u64);
        out.splice(start..=start, prefix[..used].iter().copied());
    }
}

/// Appends `LabelPair { name, value }` as field `field` (a metric's or an exemplar's labels).
pub(crate) fn label_pair(out: &mut Vec<u8>, field: u32, name: &str, value: &[u8]) {
    message(out, field, |pair| {
        bytes(pair, field::LABEL_NAME, name.as_bytes());
        bytes(pair, field::LABEL_VALUE, value);
    });
}

/// Appends a `google.protobuf.Timestamp` of `seconds` since the epoch as field `field`; a
/// time that is not finite or not after the epoch is left out.
pub(crate) fn timestamp(out: &mut Vec<u8>, field: u32, seconds: f64) {
    if !(seconds.is_finite() && seconds > 0.0) {
        return;
    }
    let whole = seconds.floor();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0 to 1e9, checked below
    let nanos = (((seconds - whole) * 1e9).round() as u64).min(999_999_999);
    message(out, field, |time| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // positive, finite
        uint(time, field::TIMESTAMP_SECONDS, whole as u64);
        uint(time, field::TIMESTAMP_NANOS, nanos);
    });
}

/// Appends a histogram's native buckets: schema, zero bucket, and the spans and deltas of
/// each sign. Gaps of up to two empty buckets are written as zero deltas rather than a
/// new span, as Go's client does; a histogram with nothing to tell gets one empty span,
/// so that a reader still sees a native histogram.
pub(crate) fn native_buckets(out: &mut Vec<u8>, native: &NativeSnapshot) {
    sint(out, field::HISTOGRAM_SCHEMA, native.schema.into());
    double(out, field::HISTOGRAM_ZERO_THRESHOLD, native.zero_threshold);
    uint(out, field::HISTOGRAM_ZERO_COUNT, native.zero_count);
    let sides = [
        (
            &native.negative,
            field::HISTOGRAM_NEGATIVE_SPAN,
            field::HISTOGRAM_NEGATIVE_DELTA,
        ),
        (
            &native.positive,
            field::HISTOGRAM_POSITIVE_SPAN,
            field::HISTOGRAM_POSITIVE_DELTA,
        ),
    ];
    for (buckets, span_field, delta_field) in sides {
        let (spans, deltas) = spans_and_deltas(buckets);
        for (offset, length) in spans {
            message(out, span_field, |span| {
                sint(span, field::SPAN_OFFSET, offset.into());
                uint(span, field::SPAN_LENGTH, length.into());
            });
        }
        for delta in deltas {
            sint(out, delta_field, delta);
        }
    }
    let empty = native.positive.is_empty() && native.negative.is_empty();
    if empty && native.zero_threshold == 0.0 && native.zero_count == 0 {
        message(out, field::HISTOGRAM_POSITIVE_SPAN, |span| {
            sint(span, field::SPAN_OFFSET, 0);
            uint(span, field::SPAN_LENGTH, 0);
        });
    }
}

/// The spans `(offset from the end of the previous span, length)` and the count deltas
/// (each bucket's count less the previous one's) of populated buckets sorted by index.
fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<(i32, u32)>, Vec<i64>) {
    let mut spans: Vec<(i32, u32)> = Vec::new();
    let mut deltas = Vec::with_capacity(buckets.len());
    let mut previous = 0_i64;
    let mut next_index = 0_i32;
    let mut push = |spans: &mut Vec<(i32, u32)>, count: u64| {
        spans.last_mut().expect("a span is open").1 += 1;
        // A bucket holds fewer than 2^63 observations.
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        deltas.push(count - previous);
        previous = count;
    };
    for (n, &(index, count)) in buckets.iter().enumerate() {
        let gap = index - next_index;
        if n == 0 || gap > 2 {
            spans.push((gap, 0));
        } else {
            for _ in 0..gap {
                push(&mut spans, 0);
            }
        }
        push(&mut spans, count);
        next_index = index + 1;
    }
    (spans, deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_bridge_gaps_of_two_and_open_past_them() {
        let buckets = [(-3, 1), (-2, 4), (0, 2), (3, 5), (7, 1)];
        let (spans, deltas) = spans_and_deltas(&buckets);
        // -3..=0 with -1 empty (gap 1), then 3 (gap 2, bridged), then 7 (gap 3: a new span).
        assert_eq!(spans, [(-3, 7), (3, 1)]);
        assert_eq!(deltas, [1, 3, -4, 2, -2, 0, 5, -4]);
        assert_eq!(spans_and_deltas(&[]), (vec![], vec![]));
    }

    #[test]
    fn sints_are_zigzag() {
        for (value, encoded) in [(0, 0), (-1, 1), (1, 2), (-2, 3), (i64::MIN, u64::MAX)] {
            let mut out = Vec::new();
            sint(&mut out, 1, value);
            let mut expected = Vec::new();
            uint(&mut expected, 1, encoded);
            assert_eq!(out, expected, "{value}");
        }
    }

    #[test]
    fn varints_and_lengths_are_exact() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        for length in [0, 1, 127, 128, 300, 16_384] {
            let mut out = vec![7];
            message(&mut out, 4, |body| {
                body.extend(core::iter::repeat_n(1, length));
            });
            let mut expected = vec![7, 4 << 3 | 2];
            varint(&mut expected, length as u64);
            expected.extend(core::iter::repeat_n(1, length));
            assert_eq!(out, expected, "{length}");
        }
    }

    #[test]
    fn timestamps_split_seconds_and_nanoseconds() {
        let mut out = Vec::new();
        timestamp(&mut out, 3, 1.5);
        assert_eq!(
            out,
            [
                3 << 3 | 2,
                8,
                1 << 3,
                1,
                2 << 3,
                0x80,
                0xca,
                0xb5,
                0xee,
                0x01
            ]
        );
        let mut none = Vec::new();
        timestamp(&mut none, 3, f64::NAN);
        timestamp(&mut none, 3, 0.0);
        assert!(none.is_empty());
    }
}
