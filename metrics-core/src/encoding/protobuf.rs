//! The protobuf exposition: `io.prometheus.client.MetricFamily` messages (`client_model`'s
//! `metrics.proto`), each after its length, written straight into the scrape's buffer.
//!
//! A hand-written encoder rather than a protobuf crate's generated structs: those own
//! every string, so a scrape of 100,000 series would allocate each label value again.
//! Here a nested message is written in place after a one-byte length, which is widened
//! when the message turns out longer than 127 bytes. Tests decode the output with
//! Python's `protobuf` package, which knows nothing of this code.

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
    pub(crate) const SUMMARY_CREATED: u32 = 4;

    pub(crate) const HISTOGRAM_COUNT: u32 = 1;
    pub(crate) const HISTOGRAM_SUM: u32 = 2;
    pub(crate) const HISTOGRAM_BUCKET: u32 = 3;
    pub(crate) const HISTOGRAM_CREATED: u32 = 15;

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

#[cfg(test)]
mod tests {
    use super::*;

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
