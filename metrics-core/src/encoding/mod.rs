//! The exposition formats: Prometheus text 0.0.4, OpenMetrics 1.0.0 and protobuf.
//!
//! Metrics stream their series through a [`SeriesEncoder`] into one reusable buffer, one
//! call per series with its type's values; label sets arrive rendered in the format's own
//! form (escaped `name="value"` text, or protobuf `LabelPair` fields), once per series,
//! however many samples it has.

mod escape;
mod float;
mod negotiate;
mod protobuf;

pub use negotiate::Format;

pub(crate) use escape::{escape_help, escape_label_bytes, escape_label_value};
pub(crate) use float::write_float;
pub(crate) use protobuf::varint;

use crate::descriptor::MetricType;
use crate::exemplar::Exemplar;
use crate::NativeSnapshot;

/// `Content-Type` of the Prometheus text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `Content-Type` of OpenMetrics 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `Content-Type` of the protobuf exposition: `io.prometheus.client.MetricFamily`
/// messages, each after its length as a varint.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

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

/// The name a family goes by in `format`: the text format and protobuf name counters
/// and infos after their samples (`x_total`, `x_info`), OpenMetrics names the family.
fn family_name_suffix(format: Format, kind: MetricType) -> &'static str {
    match (format, kind) {
        (Format::Text | Format::Protobuf, MetricType::Counter) => "_total",
        (Format::Text | Format::Protobuf, MetricType::Info) => "_info",
        _ => "",
    }
}

/// A family being written, from [`begin_family`] to [`end_family`].
#[must_use = "a protobuf family is whole only once `end_family` writes its length"]
#[derive(Clone, Copy)]
pub(crate) struct FamilyStart {
    format: Format,
    /// Where the family began (its length, in protobuf).
    at: usize,
    /// Where its series begin.
    series_at: usize,
}

/// Begins a family: `# HELP`, `# TYPE` and, in OpenMetrics, `# UNIT`; in protobuf, a
/// `MetricFamily` with its name, help, type and unit.
pub(crate) fn begin_family(out: &mut Vec<u8>, format: Format, header: &Header<'_>) -> FamilyStart {
    let at = out.len();
    let suffix = family_name_suffix(format, header.kind);
    if format == Format::Protobuf {
        use protobuf::{bytes, field, kind, uint};
        protobuf::open_length(out);
        let name = [header.name.as_bytes(), suffix.as_bytes()].concat();
        bytes(out, field::FAMILY_NAME, &name);
        bytes(out, field::FAMILY_HELP, header.help.as_bytes());
        let kind = match header.kind {
            MetricType::Counter => kind::COUNTER,
            MetricType::Gauge | MetricType::Info | MetricType::StateSet => kind::GAUGE,
            MetricType::Histogram => kind::HISTOGRAM,
            MetricType::Summary => kind::SUMMARY,
            MetricType::Unknown => kind::UNTYPED,
        };
        uint(out, field::FAMILY_TYPE, kind);
        if let Some(unit) = header.unit {
            bytes(out, field::FAMILY_UNIT, unit.as_bytes());
        }
        return FamilyStart {
            format,
            at,
            series_at: out.len(),
        };
    }
    let type_name = match format {
        Format::OpenMetrics => header.kind.openmetrics_name(),
        Format::Text | Format::Protobuf => header.kind.text_name(),
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
    FamilyStart {
        format,
        at,
        series_at: out.len(),
    }
}

/// Ends the family `start` began. In protobuf a family without series is left out, as
/// Go's client leaves it: a `MetricFamily` with no `Metric` says nothing a scraper keeps.
pub(crate) fn end_family(out: &mut Vec<u8>, start: FamilyStart) {
    if start.format == Format::Protobuf {
        if out.len() == start.series_at {
            out.truncate(start.at);
        } else {
            protobuf::close_length(out, start.at);
        }
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
    /// Whether OpenMetrics carries `_created` series.
    pub(crate) created_series: bool,
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
    fn sample(&mut self, suffix: &str, labels: &[u8], extra: Option<(&str, &[u8])>, value: Value) {
        self.sample_with(suffix, labels, extra, |out| write_value(out, value));
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

    /// Writes a counter's series: `_total` (with its exemplar, but in the text format),
    /// and `_created` in OpenMetrics when the counter has one.
    pub(crate) fn counter(
        &mut self,
        labels: &[u8],
        value: Value,
        created: Option<f64>,
        exemplar: Option<&Exemplar>,
    ) {
        use protobuf::field;
        if self.format == Format::Protobuf {
            self.metric(labels, field::METRIC_COUNTER, |counter| {
                protobuf::double(counter, field::VALUE, value.as_f64());
                if let Some(exemplar) = exemplar {
                    protobuf_exemplar(counter, field::COUNTER_EXEMPLAR, exemplar);
                }
                if let Some(created) = created {
                    protobuf::timestamp(counter, field::COUNTER_CREATED, created);
                }
            });
            return;
        }
        let exemplar = exemplar.filter(|_| self.format == Format::OpenMetrics);
        self.sample_with("_total", labels, None, |out| {
            write_value(out, value);
            if let Some(exemplar) = exemplar {
                write_exemplar(out, exemplar);
            }
        });
        if let Some(created) = created {
            self.write_created(labels, created);
        }
    }

    /// Writes a gauge's series.
    pub(crate) fn gauge(&mut self, labels: &[u8], value: Value) {
        self.single(labels, protobuf::field::METRIC_GAUGE, value);
    }

    /// Writes the series of a family whose type is unknown.
    pub(crate) fn untyped(&mut self, labels: &[u8], value: Value) {
        self.single(labels, protobuf::field::METRIC_UNTYPED, value);
    }

    /// Writes an info's series, worth 1: its pairs are among `labels`.
    pub(crate) fn info(&mut self, labels: &[u8]) {
        if self.format == Format::Protobuf {
            self.gauge(labels, Value::Int(1));
        } else {
            self.sample("_info", labels, None, Value::Int(1));
        }
    }

    /// Writes one state of a state set, labelled with the family's name: `escaped` is
    /// `state` as the text formats write a label value.
    pub(crate) fn state(&mut self, labels: &[u8], state: &str, escaped: &[u8], on: bool) {
        let value = Value::Int(u64::from(on));
        if self.format == Format::Protobuf {
            let mut all = labels.to_vec();
            protobuf::label_pair(
                &mut all,
                protobuf::field::METRIC_LABEL,
                self.series.name,
                state.as_bytes(),
            );
            self.gauge(&all, value);
        } else {
            self.sample("", labels, Some((self.series.name, escaped)), value);
        }
    }

    /// A series of one value (a gauge or untyped) as field `field` of a `Metric`.
    fn single(&mut self, labels: &[u8], field: u32, value: Value) {
        if self.format == Format::Protobuf {
            self.metric(labels, field, |single| {
                protobuf::double(single, protobuf::field::VALUE, value.as_f64());
            });
        } else {
            self.sample("", labels, None, value);
        }
    }

    /// Writes a histogram's series from its cumulative buckets, `+Inf` last: the
    /// `_bucket`s (with their exemplars in OpenMetrics), then `_count` and `_sum` where
    /// the format allows, and `_created` in OpenMetrics when the histogram has one. In
    /// protobuf, the finite buckets, and `+Inf` only for its exemplar (as Go writes it:
    /// the count says the rest), then the `native` buckets if the histogram has them;
    /// the text formats have no place for those.
    pub(crate) fn histogram<'b>(
        &mut self,
        labels: &[u8],
        buckets: impl IntoIterator<Item = Bucket<'b>>,
        (count, sum): (u64, f64),
        created: Option<f64>,
        native: Option<&NativeSnapshot>,
    ) {
        use protobuf::field;
        if self.format == Format::Protobuf {
            self.metric(labels, field::METRIC_HISTOGRAM, |histogram| {
                protobuf::uint(histogram, field::HISTOGRAM_COUNT, count);
                protobuf::double(histogram, field::HISTOGRAM_SUM, sum);
                for bucket in buckets {
                    if bucket.bound == f64::INFINITY && bucket.exemplar.is_none() {
                        continue;
                    }
                    protobuf::message(histogram, field::HISTOGRAM_BUCKET, |b| {
                        protobuf::uint(b, field::BUCKET_CUMULATIVE_COUNT, bucket.cumulative);
                        protobuf::double(b, field::BUCKET_UPPER_BOUND, bucket.bound);
                        if let Some(exemplar) = bucket.exemplar {
                            protobuf_exemplar(b, field::BUCKET_EXEMPLAR, exemplar);
                        }
                    });
                }
                if let Some(native) = native {
                    protobuf::native_buckets(histogram, native);
                }
                if let Some(created) = created {
                    protobuf::timestamp(histogram, field::HISTOGRAM_CREATED, created);
                }
            });
            return;
        }
        let mut negative_buckets = false;
        let openmetrics = self.format == Format::OpenMetrics;
        for bucket in buckets {
            negative_buckets |= bucket.bound < 0.0;
            let exemplar = bucket.exemplar.filter(|_| openmetrics);
            self.sample_with("_bucket", labels, Some(("le", bucket.le)), |out| {
                float::write_u64(out, bucket.cumulative);
                if let Some(exemplar) = exemplar {
                    write_exemplar(out, exemplar);
                }
            });
        }
        self.count_and_sum(labels, count, sum, negative_buckets);
        if let Some(created) = created {
            self.write_created(labels, created);
        }
    }

    /// Writes a summary's series: its `(quantile, value)`s (in OpenMetrics, those not
    /// negative), `_count` and `_sum`, and `_created` in OpenMetrics when the summary has
    /// one.
    pub(crate) fn summary(
        &mut self,
        labels: &[u8],
        (count, sum): (u64, f64),
        quantiles: &[(f64, f64)],
        created: Option<f64>,
    ) {
        use protobuf::field;
        if self.format == Format::Protobuf {
            self.metric(labels, field::METRIC_SUMMARY, |summary| {
                protobuf::uint(summary, field::SUMMARY_COUNT, count);
                protobuf::double(summary, field::SUMMARY_SUM, sum);
                for &(quantile, value) in quantiles {
                    protobuf::message(summary, field::SUMMARY_QUANTILE, |q| {
                        protobuf::double(q, field::QUANTILE_QUANTILE, quantile);
                        protobuf::double(q, field::QUANTILE_VALUE, value);
                    });
                }
                if let Some(created) = created {
                    protobuf::timestamp(summary, field::SUMMARY_CREATED, created);
                }
            });
            return;
        }
        let mut label = Vec::with_capacity(8);
        for &(quantile, value) in quantiles {
            // OpenMetrics: "Quantile values MUST NOT be negative" (its parsers refuse
            // them); the other formats have them all.
            if self.format == Format::OpenMetrics && value < 0.0 {
                continue;
            }
            label.clear();
            write_float(&mut label, quantile);
            self.sample("", labels, Some(("quantile", &label)), Value::Float(value));
        }
        self.count_and_sum(labels, count, sum, false);
        if let Some(created) = created {
            self.write_created(labels, created);
        }
    }

    /// Writes one protobuf `Metric`: the constant labels, `labels`, and field `field`
    /// (the type's message) as `write` writes it.
    fn metric(&mut self, labels: &[u8], field: u32, write: impl FnOnce(&mut Vec<u8>)) {
        let const_labels = self.series.const_labels;
        protobuf::message(self.out, protobuf::field::FAMILY_METRIC, |metric| {
            metric.extend_from_slice(const_labels);
            metric.extend_from_slice(labels);
            protobuf::message(metric, field, write);
        });
    }

    /// Writes `_count` and `_sum` where the format allows (see `shows_count_and_sum`).
    fn count_and_sum(&mut self, labels: &[u8], count: u64, sum: f64, negative_buckets: bool) {
        if self.shows_count_and_sum(negative_buckets, sum) {
            self.sample("_count", labels, None, Value::Int(count));
            self.sample("_sum", labels, None, Value::Float(sum));
        }
    }

    /// Writes `_created` in OpenMetrics; the text format carries no `_created` (as Go's
    /// client), so there it writes nothing.
    fn write_created(&mut self, labels: &[u8], created: f64) {
        if self.format == Format::OpenMetrics && self.series.created_series {
            // A time needs no canonical spelling, only an exact one: ryu's shortest
            // round-trip digits, as they come (`1795627490.7719731`), a third of the cost.
            self.sample_with("_created", labels, None, |out| {
                write_timestamp(out, created);
            });
        }
    }
}

/// One bucket of a histogram: its upper bound, the bound as `le` writes it, the count of
/// observations up to it, and its latest exemplar.
pub(crate) struct Bucket<'b> {
    pub(crate) bound: f64,
    pub(crate) le: &'b [u8],
    pub(crate) cumulative: u64,
    pub(crate) exemplar: Option<&'b Exemplar>,
}

/// Writes a sample's value.
fn write_value(out: &mut Vec<u8>, value: Value) {
    match value {
        Value::Int(v) => float::write_u64(out, v),
        Value::Float(v) => write_float(out, v),
    }
}

/// Writes ` # {labels} value timestamp` after a sample's value, as OpenMetrics shows an
/// exemplar.
fn write_exemplar(out: &mut Vec<u8>, exemplar: &Exemplar) {
    out.extend_from_slice(b" # {");
    let mut labels = Vec::new();
    for (name, value) in &exemplar.labels {
        render_label(&mut labels, Format::OpenMetrics, name, value.as_bytes());
    }
    out.extend_from_slice(&labels);
    out.extend_from_slice(b"} ");
    write_float(out, exemplar.value);
    out.push(b' ');
    write_timestamp(out, exemplar.timestamp);
}

/// Writes a time in seconds, exactly: ryu's shortest round-trip digits.
fn write_timestamp(out: &mut Vec<u8>, seconds: f64) {
    if seconds.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(seconds).as_bytes());
    } else {
        write_float(out, seconds);
    }
}

/// Writes `exemplar` as field `field` (a counter's or a bucket's `Exemplar`).
fn protobuf_exemplar(out: &mut Vec<u8>, field: u32, exemplar: &Exemplar) {
    protobuf::message(out, field, |message| {
        for (name, value) in &exemplar.labels {
            protobuf::label_pair(
                message,
                protobuf::field::EXEMPLAR_LABEL,
                name,
                value.as_bytes(),
            );
        }
        protobuf::double(message, protobuf::field::EXEMPLAR_VALUE, exemplar.value);
        protobuf::timestamp(
            message,
            protobuf::field::EXEMPLAR_TIMESTAMP,
            exemplar.timestamp,
        );
    });
}

/// Appends one label pair to the rendered labels `out`, in `format`'s form: `name="value"`
/// escaped, after a comma unless it is the first, in the text formats; a `LabelPair` field
/// in protobuf.
pub(crate) fn render_label(out: &mut Vec<u8>, format: Format, name: &str, value: &[u8]) {
    if format == Format::Protobuf {
        protobuf::label_pair(out, protobuf::field::METRIC_LABEL, name, value);
        return;
    }
    if !out.is_empty() {
        out.push(b',');
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    escape_label_bytes(out, value);
    out.push(b'"');
}

/// Renders label pairs into `out` with [`render_label`].
pub(crate) fn render_label_pairs<'p>(
    out: &mut Vec<u8>,
    format: Format,
    pairs: impl IntoIterator<Item = (&'p str, impl AsRef<str>)>,
) {
    for (name, value) in pairs {
        render_label(out, format, name, value.as_ref().as_bytes());
    }
}
