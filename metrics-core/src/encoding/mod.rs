//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.0.
//!
//! Metrics stream their samples through a [`SeriesEncoder`] into one reusable buffer;
//! label sets arrive rendered and escaped, once per series, however many samples it has.

mod escape;
mod float;
mod negotiate;

pub use negotiate::Format;

pub(crate) use escape::{escape_help, escape_label_bytes, escape_label_value};
pub(crate) use float::write_float;

use crate::descriptor::MetricType;

/// `Content-Type` of the Prometheus text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `Content-Type` of OpenMetrics 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A sample's value: exact integers stay integers until they are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An exact count.
    Int(u64),
    /// Any other value.
    Float(f64),
}

impl Value {
    /// The value as a float.
    ///
    /// ```
    /// assert_eq!(promlink_core::Value::Int(3).as_f64(), 3.0);
    /// ```
    #[allow(clippy::cast_precision_loss)] // counts past 2^53 lose precision as floats, by nature
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Float(v) => v,
        }
    }
}

/// What a family's header says: its name, help, type and unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    pub(crate) name: &'a str,
    pub(crate) help: &'a str,
    pub(crate) kind: MetricType,
    pub(crate) unit: Option<&'a str>,
}

/// Writes `# HELP`, `# TYPE` and, in OpenMetrics, `# UNIT`.
pub(crate) fn write_header(out: &mut Vec<u8>, format: Format, header: &Header<'_>) {
    // The text format names counters and infos after their samples (`x_total`, `x_info`);
    // OpenMetrics names the family.
    let suffix = match (format, header.kind) {
        (Format::Text, MetricType::Counter) => "_total",
        (Format::Text, MetricType::Info) => "_info",
        _ => "",
    };
    let type_name = match format {
        Format::Text => header.kind.text_name(),
        Format::OpenMetrics => header.kind.openmetrics_name(),
    };
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(header.name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    escape_help(out, header.help, format);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(header.name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
    if let (Format::OpenMetrics, Some(unit)) = (format, header.unit) {
        out.extend_from_slice(b"# UNIT ");
        out.extend_from_slice(header.name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
}

/// Writes the samples of one family. Handed to metrics by the registry.
pub struct SeriesEncoder<'a> {
    out: &'a mut Vec<u8>,
    format: Format,
    series: SeriesContext<'a>,
}

/// What every sample of one registered metric shares.
#[derive(Clone, Copy)]
pub(crate) struct SeriesContext<'a> {
    /// The family name.
    pub(crate) name: &'a str,
    /// The constant labels, rendered.
    pub(crate) const_labels: &'a [u8],
    /// Every label name the samples carry: constant and variable.
    pub(crate) label_names: &'a [&'a str],
    /// `_created` of series that exist as long as their metric (unlabelled ones, dense
    /// children): the process start for statics, the registration for the others.
    pub(crate) created: f64,
}

impl<'a> SeriesEncoder<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, format: Format, series: SeriesContext<'a>) -> Self {
        SeriesEncoder {
            out,
            format,
            series,
        }
    }

    /// Every label name the samples carry, constant and variable.
    pub(crate) fn label_names(&self) -> &'a [&'a str] {
        self.series.label_names
    }

    /// When the metric's own series began.
    pub(crate) fn created(&self) -> f64 {
        self.series.created
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The family name.
    pub fn family_name(&self) -> &'a str {
        self.series.name
    }

    /// Whether OpenMetrics may show `_count` and `_sum` of a histogram or summary: it
    /// reads them as counters, so not with negative buckets, nor with a negative or NaN
    /// sum (the text format shows them always, as Go and Python do).
    fn shows_count_and_sum(&self, negative_buckets: bool, sum: f64) -> bool {
        self.format == Format::Text || (!negative_buckets && sum >= 0.0)
    }

    /// Writes one sample line: the family name and `suffix`, the labels (the family's
    /// constant labels, then `labels`, then `extra`), and the value.
    ///
    /// `labels` is a rendered, escaped label list (`a="x",b="y"`), possibly empty; the
    /// extra label's value must be escaped too.
    pub(crate) fn sample(
        &mut self,
        suffix: &str,
        labels: &[u8],
        extra: Option<(&str, &[u8])>,
        value: Value,
    ) {
        self.sample_with(suffix, labels, extra, |out| match value {
            Value::Int(v) => float::write_u64(out, v),
            Value::Float(v) => write_float(out, v),
        });
    }

    /// [`sample`](Self::sample) with the value written by `write_value`.
    fn sample_with(
        &mut self,
        suffix: &str,
        labels: &[u8],
        extra: Option<(&str, &[u8])>,
        write_value: impl FnOnce(&mut Vec<u8>),
    ) {
        let out = &mut *self.out;
        out.extend_from_slice(self.series.name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        let parts = [self.series.const_labels, labels];
        let mut open = false;
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            out.push(if open { b',' } else { b'{' });
            out.extend_from_slice(part);
            open = true;
        }
        if let Some((name, escaped_value)) = extra {
            out.push(if open { b',' } else { b'{' });
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"=\"");
            out.extend_from_slice(escaped_value);
            out.push(b'"');
            open = true;
        }
        if open {
            out.push(b'}');
        }
        out.push(b' ');
        write_value(out);
        out.push(b'\n');
    }

    /// Writes a histogram's samples: cumulative `_bucket`s for the finite bounds (their
    /// `le` values rendered), `+Inf`, then `_count` and `_sum` where the format allows.
    pub(crate) fn histogram<'b>(
        &mut self,
        labels: &[u8],
        finite_buckets: impl IntoIterator<Item = (&'b [u8], u64)>,
        count: u64,
        sum: f64,
        negative_buckets: bool,
    ) {
        for (le, cumulative) in finite_buckets {
            self.sample("_bucket", labels, Some(("le", le)), Value::Int(cumulative));
        }
        self.sample("_bucket", labels, Some(("le", b"+Inf")), Value::Int(count));
        self.count_and_sum(labels, count, sum, negative_buckets);
    }

    /// Writes `_count` and `_sum` where the format allows (see `shows_count_and_sum`).
    pub(crate) fn count_and_sum(
        &mut self,
        labels: &[u8],
        count: u64,
        sum: f64,
        negative_buckets: bool,
    ) {
        if self.shows_count_and_sum(negative_buckets, sum) {
            self.sample("_count", labels, None, Value::Int(count));
            self.sample("_sum", labels, None, Value::Float(sum));
        }
    }

    /// Writes `_created` in OpenMetrics; the text format carries no `_created` (as Go's
    /// client), so there it writes nothing.
    pub(crate) fn write_created(&mut self, labels: &[u8], created: f64) {
        if self.format == Format::OpenMetrics {
            // A time needs no canonical spelling, only an exact one: ryu's shortest
            // round-trip digits, as they come (`1795627490.7719731`), a third of the cost.
            self.sample_with("_created", labels, None, |out| {
                if created.is_finite() {
                    out.extend_from_slice(ryu::Buffer::new().format_finite(created).as_bytes());
                } else {
                    write_float(out, created);
                }
            });
        }
    }
}

/// Renders `name="value"` pairs, escaped, comma-separated, into `out`.
pub(crate) fn render_label_pairs<'p>(
    out: &mut Vec<u8>,
    pairs: impl IntoIterator<Item = (&'p str, impl AsRef<str>)>,
) {
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_label_value(out, value.as_ref());
        out.push(b'"');
    }
}
