//! Property test: whatever values, label values and HELP texts a program gives promlink,
//! both expositions are accepted by `prometheus_client`'s parsers and read back exactly.
//!
//! Each case builds fresh registries from generated data:
//!
//! - label values and HELP texts with quotes, backslashes, newlines, tabs, carriage
//!   returns, braces, `#`, NUL, non-ASCII and Unicode line separators, or empty;
//! - gauge values from the whole `f64` range: ±Inf, NaN (any payload), -0.0, subnormals,
//!   huge and tiny values, integers beyond 2^53, random bit patterns;
//! - counter increments from the non-negative half of that range (and one negative or NaN
//!   increment per case, which must be refused without changing the total);
//! - histogram bounds (finite, any magnitude) and observations, summary observations;
//! - info label values and state-set state names.
//!
//! It encodes each registry in OpenMetrics 1.0 and in the text format 0.0.4, and one
//! Python process (`tests/python/round_trip.py`) checks every exposition of the batch:
//! the parser of its format must accept it, the families must be exactly the expected
//! ones, every sample value must read back bit for bit (any NaN as NaN), every label value
//! and HELP text exactly, and every `le` must be in OpenMetrics' canonical spelling.
//! Values cross over to Python as IEEE 754 bit patterns, so nothing is lost on the way.
//!
//! Cases are sampled from proptest strategies with a `TestRunner` rather than run one by
//! one (a Python process per case would take minutes), so there is no shrinking: a failure
//! reports the case index, the exposition and the seed. The seed is random; set
//! `PROMLINK_PROPTEST_SEED` to replay one.
//!
//! Observations whose sum is negative or NaN cannot be expressed in OpenMetrics ("Sum ...
//! MUST NOT be NaN or negative"), nor can a sum beside negative buckets: there promlink
//! leaves out `_count` and `_sum` (which go together), and the expected samples say so.
//! One thing is outside promlink's control and allowed for: the Python parsers drop leading and (in 0.0.4) trailing whitespace of HELP texts, which
//! a raw check of the HELP line covers instead.
//!
//! Needs `python3` with `prometheus_client==0.26.0`, and fails (rather than skipping)
//! without them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

mod support {
    pub mod python;
}

use promlink::{
    Counter, EncodeMetric, Family, Format, Gauge, Histogram, Info, Metric, Registry, StateSet,
    Summary,
};
use support::python::{run_python, scratch_dir};

/// Cases per test: each is a handful of expositions, all checked by one Python process.
const CASES: usize = 256;

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Floats that break float printers: specials, boundaries of the positional and exponent
/// spellings, the ends of the exact-integer range, extremes.
const SPECIAL_FLOATS: &[f64] = &[
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    -f64::NAN,
    0.0,
    -0.0,
    f64::MIN_POSITIVE,
    -f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    0.1,
    1.0 / 3.0,
    1e-4,
    1e-5,
    99_999.0,
    100_000.0,
    1e6,
    1e15,
    1e15 + 0.5,
    1e16,
    1e21,
    1e22,
    9_007_199_254_740_992.0,
    9_007_199_254_740_994.0,
    18_446_744_073_709_551_616.0,
    123_456_789_012_345_680.0,
    -1.5e-7,
];

fn any_float() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => prop::sample::select(SPECIAL_FLOATS),
        // Every bit pattern: NaN payloads, subnormals, both signs, all exponents.
        3 => any::<u64>().prop_map(f64::from_bits),
        // proptest's classes: normal, subnormal, zero, infinite, NaN.
        2 => prop::num::f64::ANY,
        1 => (any::<bool>(), 1_u64..1 << 52)
            .prop_map(|(negative, mantissa)| f64::from_bits(mantissa | u64::from(negative) << 63)),
        // Integers, many beyond 2^53.
        1 => (-9.3e18..9.3e18_f64).prop_map(f64::trunc),
        1 => -1e6..1e6_f64,
    ]
    .boxed()
}

/// What a counter accepts: not negative, not NaN (-0.0 and +Inf included).
fn increment() -> impl Strategy<Value = f64> {
    any_float()
        .prop_filter("counters refuse NaN", |v| !v.is_nan())
        .prop_map(|v| if v < 0.0 { -v } else { v })
}

/// What a counter refuses: negative or NaN.
fn refused_increment() -> impl Strategy<Value = f64> {
    // Zeros are accepted, so they become NaN; positive values change sign.
    any_float().prop_map(|v| {
        if v == 0.0 {
            f64::NAN
        } else if v > 0.0 {
            -v
        } else {
            v
        }
    })
}

fn finite_float() -> impl Strategy<Value = f64> {
    any_float().prop_filter("bucket bounds are finite", |v| v.is_finite())
}

/// Sorted, strictly increasing: what `Histogram::new` accepts.
fn sorted(mut bounds: [f64; 3]) -> [f64; 3] {
    bounds.sort_by(f64::total_cmp);
    bounds
}

fn strictly_increasing(bounds: &[f64; 3]) -> bool {
    bounds.windows(2).all(|w| w[0] < w[1])
}

/// Bounds that are not negative (-0.0 included): `_sum` belongs in OpenMetrics.
fn non_negative_bounds() -> impl Strategy<Value = [f64; 3]> {
    prop::array::uniform3(finite_float().prop_map(|v| if v < 0.0 { -v } else { v }))
        .prop_map(sorted)
        .prop_filter("bounds increase strictly", strictly_increasing)
}

/// Bounds of which the first is negative: OpenMetrics then forbids `_sum` (and with it
/// `_count`).
fn negative_bounds() -> impl Strategy<Value = [f64; 3]> {
    prop::array::uniform3(finite_float())
        .prop_map(sorted)
        .prop_filter("bounds increase strictly and start below zero", |b| {
            strictly_increasing(b) && b[0] < 0.0
        })
}

/// Observations: half the time only non-negative ones (a sum OpenMetrics can express),
/// half the time anything.
fn observations() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![vec(increment(), 0..6), vec(any_float(), 0..6)]
}

/// Characters that exposition formats escape, parsers split on, or Unicode treats as
/// whitespace or line breaks.
const SPECIAL_CHARS: &[char] = &[
    '"',
    '\\',
    '\n',
    '\t',
    '\r',
    ' ',
    '{',
    '}',
    ',',
    '=',
    '#',
    '\0',
    '\x0b',
    '\x0c',
    '\x1c',
    '\x1f',
    '\x7f',
    '\u{85}',
    '\u{a0}',
    'é',
    'ß',
    '日',
    '🦀',
    '\u{2028}',
    '\u{2029}',
    '\u{3000}',
    '\u{feff}',
    '\u{fffd}',
    '\u{10ffff}',
];

/// Strings written whole: escape sequences spelled out, things that look like syntax.
const SPECIAL_STRINGS: &[&str] = &[
    "",
    "\\",
    "\"",
    "\\\"",
    "\\n",
    "\\\\n",
    "a\\",
    "}",
    "\" } 1",
    " # {trace_id=\"x\"} 1 2",
    " leading space",
    "trailing tab\t",
    "\u{a0}nbsp\u{a0}",
    "NaN",
    "+Inf",
];

/// Label values and HELP texts.
fn text() -> BoxedStrategy<String> {
    let char = prop_oneof![
        3 => prop::sample::select(SPECIAL_CHARS),
        2 => any::<char>(),
        2 => prop::char::range('a', 'z'),
    ];
    prop_oneof![
        2 => prop::sample::select(SPECIAL_STRINGS).prop_map(str::to_owned),
        8 => vec(char, 0..12).prop_map(|chars| chars.into_iter().collect()),
    ]
    .boxed()
}

/// The registry of the gauges, counters, info and state set of one case.
#[derive(Debug, Clone)]
struct MainCase {
    /// HELP of the gauge, counter, info and state set.
    helps: [String; 4],
    /// `(label a, label b, value)`: later values for the same labels win.
    gauges: Vec<(String, String, f64)>,
    /// `(label, increment)`: increments for the same label add up.
    counters: Vec<(String, f64)>,
    refused: f64,
    info: (String, String),
    /// Distinct state names, each set on or off.
    states: BTreeMap<String, bool>,
}

prop_compose! {
    fn main_case()(
        helps in prop::array::uniform4(text()),
        gauges in vec((text(), text(), any_float()), 0..5),
        counters in vec((text(), increment()), 0..5),
        refused in refused_increment(),
        info in (text(), text()),
        states in btree_map(text(), any::<bool>(), 1..5),
    ) -> MainCase {
        MainCase { helps, gauges, counters, refused, info, states }
    }
}

/// A histogram or summary family with one child.
#[derive(Debug, Clone)]
struct ObservedCase {
    help: String,
    label: String,
    bounds: [f64; 3],
    observations: Vec<f64>,
    /// For some observations, the `trace_id` of an exemplar (of a histogram): any text
    /// but `"`, up to the length limit and past it.
    exemplars: Vec<Option<String>>,
}

/// An exemplar's label value. Without `"`: `prometheus_client` 0.26 reads an escaped `\"`
/// in an exemplar's labels as the end of the value (its sample labels it reads right).
/// Long ones in `é`, two bytes a character, around the limit of 128 characters that
/// `trace_id` and the value may have together.
fn exemplar_text() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        2 => Just(None),
        3 => text()
            .prop_map(|t| t.replace('"', "'"))
            .prop_map(Some),
        1 => (115_usize..125).prop_map(|n| Some("é".repeat(n))),
    ]
    .boxed()
}

fn observed_case(bounds: impl Strategy<Value = [f64; 3]>) -> impl Strategy<Value = ObservedCase> {
    (text(), text(), bounds, observations())
        .prop_flat_map(|(help, label, bounds, observations)| {
            let n = observations.len();
            (
                Just((help, label, bounds, observations)),
                vec(exemplar_text(), n..=n),
            )
        })
        .prop_map(
            |((help, label, bounds, observations), exemplars)| ObservedCase {
                help,
                label,
                bounds,
                observations,
                exemplars,
            },
        )
}

// ---------------------------------------------------------------------------------------
// Expected families, as JSON for the checker
// ---------------------------------------------------------------------------------------

/// Just enough JSON to hand the cases to Python (there is no serde among the
/// dev-dependencies). Strings are written as ASCII with `\u` escapes, so that the file's
/// only line breaks are the ones between documents.
enum Json {
    Null,
    /// Unsigned integers: counts, indices and the bit patterns of floats.
    Int(u64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    fn str(s: &str) -> Json {
        Json::Str(s.to_owned())
    }

    /// A float as its bit pattern: exact, NaN payloads and the sign of zero included.
    fn float(v: f64) -> Json {
        Json::Int(v.to_bits())
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Int(n) => write!(out, "{n}").expect("writing to a String"),
            Json::Str(s) => write_json_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String");
                }
            }
        }
    }
    out.push('"');
}

/// A label of an expected sample.
fn label(name: &str, value: &str) -> (String, Json) {
    (name.to_owned(), Json::str(value))
}

/// An `le` label: the checker expects the bound's canonical OpenMetrics spelling.
fn le(bound: f64) -> (String, Json) {
    ("le".to_owned(), Json::float(bound))
}

/// An expected sample; `value: None` is a `_created` time, checked for plausibility only.
fn sample(name: &str, labels: Vec<(String, Json)>, value: Option<f64>) -> Json {
    sample_with_exemplar(name, labels, value, None)
}

/// An exemplar: its `trace_id` and its value.
type ExpectedExemplar = (String, f64);

/// [`sample`], with the exemplar it must carry.
fn sample_with_exemplar(
    name: &str,
    labels: Vec<(String, Json)>,
    value: Option<f64>,
    exemplar: Option<&ExpectedExemplar>,
) -> Json {
    let labels = labels
        .into_iter()
        .map(|(name, value)| Json::Array(vec![Json::Str(name), value]))
        .collect();
    let mut fields = vec![
        Json::str(name),
        Json::Array(labels),
        value.map_or(Json::Null, Json::float),
    ];
    if let Some((trace, value)) = exemplar {
        fields.push(Json::Array(vec![
            Json::Array(vec![Json::Array(vec![
                Json::str("trace_id"),
                Json::str(trace),
            ])]),
            Json::float(*value),
        ]));
    }
    Json::Array(fields)
}

/// An expected family as the parser of `format` reads it.
struct Expected<'a> {
    /// The name the parser gives the family.
    name: &'a str,
    /// The name on the `# HELP` line.
    header: &'a str,
    kind: &'a str,
    help: &'a str,
    unit: &'a str,
    samples: Vec<Json>,
}

impl Expected<'_> {
    fn json(self) -> Json {
        Json::Object(vec![
            ("name", Json::str(self.name)),
            ("header", Json::str(self.header)),
            ("type", Json::str(self.kind)),
            ("help", Json::str(self.help)),
            ("unit", Json::str(self.unit)),
            ("samples", Json::Array(self.samples)),
        ])
    }
}

/// One exposition to check and what it must contain.
fn document(
    case: usize,
    part: &str,
    format: Format,
    registry: &Registry,
    families: Vec<Expected<'_>>,
) -> Json {
    let mut exposition = Vec::new();
    registry
        .encode(format, &mut exposition)
        .expect("a registry without collectors encodes without errors");
    let exposition = String::from_utf8(exposition).expect("expositions are UTF-8");
    Json::Object(vec![
        ("case", Json::Int(case as u64)),
        ("part", Json::str(part)),
        ("format", Json::str(format_name(format))),
        ("exposition", Json::Str(exposition)),
        (
            "families",
            Json::Array(families.into_iter().map(Expected::json).collect()),
        ),
    ])
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "text",
        Format::OpenMetrics => "openmetrics",
        other => panic!("{other:?} is not a text format"),
    }
}

// ---------------------------------------------------------------------------------------
// Building the registries
// ---------------------------------------------------------------------------------------

/// `Metric::new` takes `&'static str` HELP texts (metrics are meant to be `static`s); a
/// test leaks a few hundred short strings.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn register<M: EncodeMetric + 'static>(registry: &Registry, metric: Metric<M>) -> Arc<Metric<M>> {
    let metric = Arc::new(metric);
    if let Err(e) = registry.register(metric.clone()) {
        panic!("registering {}: {e}", metric.descriptor().name());
    }
    metric
}

/// The gauge, counter, info and state set of `case`, in both formats.
fn main_documents(index: usize, case: &MainCase) -> Vec<Json> {
    let registry = Registry::new();
    let [gauge_help, counter_help, info_help, states_help] = &case.helps;

    let gauge = register(
        &registry,
        Metric::new("g", leak(gauge_help), Family::new(["a", "b"], Gauge::new())),
    );
    let mut gauges = BTreeMap::new();
    for (a, b, value) in &case.gauges {
        gauge.labels((a.as_str(), b.as_str())).set(*value);
        gauges.insert((a.as_str(), b.as_str()), *value);
    }

    let counter = register(
        &registry,
        Metric::new(
            "c_total",
            leak(counter_help),
            Family::new(["k"], Counter::new()),
        ),
    );
    let totals = count(index, case, &counter);

    let info = register(
        &registry,
        Metric::new("i_info", leak(info_help), Info::new(&[])),
    );
    let (version, revision) = &case.info;
    info.set(&[("version", version), ("revision", revision)])
        .expect("valid info label names");

    let names: Vec<&'static str> = case.states.keys().map(|s| leak(s)).collect();
    let states = register(
        &registry,
        Metric::new("st", leak(states_help), StateSet::new(Vec::leak(names))),
    );
    for (state, on) in &case.states {
        states.set(state, *on).expect("a known state");
    }

    [Format::Text, Format::OpenMetrics]
        .into_iter()
        .map(|format| {
            let families = main_families(format, case, &gauges, &totals);
            document(index, "main", format, &registry, families)
        })
        .collect()
}

/// Applies the increments of `case` to `counter` and returns each child's total, checking
/// on the way that a refused increment changes nothing and that a child incremented once
/// holds exactly that increment.
fn count<'a>(
    index: usize,
    case: &'a MainCase,
    counter: &Family<Counter, 1>,
) -> BTreeMap<&'a str, f64> {
    let mut increments: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (k, amount) in &case.counters {
        counter.labels([k.as_str()]).inc_by(*amount);
        increments.entry(k.as_str()).or_default().push(*amount);
    }
    let mut totals = BTreeMap::new();
    for (k, amounts) in increments {
        let child = counter.labels([k]);
        let total = child.get();
        assert!(
            child.try_inc_by(case.refused).is_err(),
            "case {index}: a counter accepted the increment {:?}",
            case.refused
        );
        assert_eq!(
            child.get().to_bits(),
            total.to_bits(),
            "case {index}: a refused increment changed the total"
        );
        if let [amount] = amounts[..] {
            assert_eq!(
                total.to_bits(),
                (0.0 + amount).to_bits(),
                "case {index}: a counter incremented once by {amount:?} holds {total:?}"
            );
        }
        totals.insert(k, total);
    }
    totals
}

/// The families of `main_documents` as the parser of `format` reads them.
fn main_families<'a>(
    format: Format,
    case: &'a MainCase,
    gauges: &BTreeMap<(&str, &str), f64>,
    totals: &BTreeMap<&str, f64>,
) -> Vec<Expected<'a>> {
    let om = format == Format::OpenMetrics;
    let [gauge_help, counter_help, info_help, states_help] = &case.helps;
    let gauge_samples = gauges
        .iter()
        .map(|((a, b), v)| sample("g", vec![label("a", a), label("b", b)], Some(*v)))
        .collect();
    let mut counter_samples = Vec::new();
    for (k, total) in totals {
        counter_samples.push(sample("c_total", vec![label("k", k)], Some(*total)));
        if om {
            counter_samples.push(sample("c_created", vec![label("k", k)], None));
        }
    }
    let (version, revision) = &case.info;
    let info_sample = sample(
        "i_info",
        vec![label("version", version), label("revision", revision)],
        Some(1.0),
    );
    let state_samples = case
        .states
        .iter()
        .map(|(state, on)| {
            let value = if *on { 1.0 } else { 0.0 };
            sample("st", vec![label("st", state)], Some(value))
        })
        .collect();
    vec![
        Expected {
            name: "g",
            header: "g",
            kind: "gauge",
            help: gauge_help,
            unit: "",
            samples: gauge_samples,
        },
        // The 0.0.4 parser names a counter family after its header without `_total`.
        Expected {
            name: "c",
            header: if om { "c" } else { "c_total" },
            kind: "counter",
            help: counter_help,
            unit: "",
            samples: counter_samples,
        },
        // 0.0.4 has no info or stateset type: both are gauges there.
        Expected {
            name: if om { "i" } else { "i_info" },
            header: if om { "i" } else { "i_info" },
            kind: if om { "info" } else { "gauge" },
            help: info_help,
            unit: "",
            samples: vec![info_sample],
        },
        Expected {
            name: "st",
            header: "st",
            kind: if om { "stateset" } else { "gauge" },
            help: states_help,
            unit: "",
            samples: state_samples,
        },
    ]
}

/// The cumulative bucket counts of `observations` as the formats define them: a bucket
/// counts the observations at most its bound (NaN is at most nothing).
fn cumulative_counts(bounds: &[f64; 3], observations: &[f64]) -> [u32; 3] {
    bounds.map(|bound| {
        let n = observations.iter().filter(|&&v| v <= bound).count();
        u32::try_from(n).expect("few observations")
    })
}

/// The count and sum of `observations`: added up in order, from 0.0.
fn count_and_sum(observations: &[f64]) -> (u32, f64) {
    let count = u32::try_from(observations.len()).expect("few observations");
    (count, observations.iter().fold(0.0, |sum, v| sum + v))
}

/// A histogram family with one child, in both formats.
fn histogram_documents(index: usize, part: &str, case: &ObservedCase) -> Vec<Json> {
    let registry = Registry::new();
    let bounds: &'static [f64; 3] = Box::leak(Box::new(case.bounds));
    let histogram = register(
        &registry,
        Metric::new(
            "h_seconds",
            leak(&case.help),
            Family::new(["route"], Histogram::new(bounds)),
        )
        .with_unit("seconds"),
    );
    let child = histogram.labels([case.label.as_str()]);
    // The latest exemplar accepted in each bucket, `+Inf` last.
    let mut exemplars: [Option<ExpectedExemplar>; 4] = Default::default();
    for (v, trace) in case.observations.iter().zip(&case.exemplars) {
        let Some(trace) = trace else {
            child.observe(*v);
            continue;
        };
        let accepted = child.observe_with_exemplar(*v, &[("trace_id", trace)]);
        let chars = "trace_id".len() + trace.chars().count();
        assert_eq!(
            accepted.is_ok(),
            chars <= promlink::MAX_EXEMPLAR_LABEL_CHARS,
            "case {index}: an exemplar of {chars} characters: {accepted:?}"
        );
        if accepted.is_ok() {
            // NaN is at most no bound: `+Inf`.
            let bucket = bounds.iter().position(|b| v <= b).unwrap_or(3);
            exemplars[bucket] = Some((trace.clone(), *v));
        }
    }
    let counts = cumulative_counts(bounds, &case.observations);
    let (total, sum) = count_and_sum(&case.observations);
    let snapshot = child.snapshot();
    assert_eq!(
        (snapshot.cumulative_counts, snapshot.count),
        (counts.map(u64::from), u64::from(total)),
        "case {index}: bucket counts of {case:?}"
    );
    assert!(
        snapshot.sum.to_bits() == sum.to_bits() || (snapshot.sum.is_nan() && sum.is_nan()),
        "case {index}: sum {:?} of {case:?}, expected {sum:?}",
        snapshot.sum
    );

    // OpenMetrics 1.0: with a negative bound "the Histogram MetricPoint MUST NOT contain a
    // sum value", and "if and only if a Sum Value is present ... the +Inf Bucket value
    // MUST also appear ... with the suffix _count".
    // And a negative or NaN sum "MUST NOT" be written either: promlink then leaves out
    // `_count` and `_sum` in OpenMetrics, and writes them in 0.0.4.
    let negative_buckets = bounds[0] < 0.0;
    let counter_like_sum = !negative_buckets && sum >= 0.0;
    let route = || label("route", &case.label);
    let mut documents = Vec::new();
    for format in [Format::Text, Format::OpenMetrics] {
        let om = format == Format::OpenMetrics;
        // Exemplars are an OpenMetrics thing: the text format has none.
        let exemplar = |bucket: usize| exemplars[bucket].as_ref().filter(|_| om);
        let mut samples: Vec<Json> = bounds
            .iter()
            .zip(counts)
            .enumerate()
            .map(|(bucket, (bound, n))| {
                sample_with_exemplar(
                    "h_seconds_bucket",
                    vec![route(), le(*bound)],
                    Some(f64::from(n)),
                    exemplar(bucket),
                )
            })
            .collect();
        samples.push(sample_with_exemplar(
            "h_seconds_bucket",
            vec![route(), le(f64::INFINITY)],
            Some(f64::from(total)),
            exemplar(3),
        ));
        if !om || counter_like_sum {
            samples.push(sample(
                "h_seconds_count",
                vec![route()],
                Some(f64::from(total)),
            ));
            samples.push(sample("h_seconds_sum", vec![route()], Some(sum)));
        }
        if om {
            samples.push(sample("h_seconds_created", vec![route()], None));
        }
        let family = Expected {
            name: "h_seconds",
            header: "h_seconds",
            kind: "histogram",
            help: &case.help,
            unit: if om { "seconds" } else { "" },
            samples,
        };
        documents.push(document(index, part, format, &registry, vec![family]));
    }
    documents
}

/// The quantiles of the summaries that have them: the ends, and canonical spellings.
const QUANTILES: [f64; 4] = [0.0, 0.5, 0.99, 1.0];

/// A summary family with one child, in both formats (`case.bounds` is not used); with
/// `quantiles`, it has [`QUANTILES`] too.
fn summary_documents(index: usize, case: &ObservedCase, quantiles: bool) -> Vec<Json> {
    let registry = Registry::new();
    let new = if quantiles {
        Summary::new().with_quantiles(&QUANTILES)
    } else {
        Summary::new()
    };
    let summary = register(
        &registry,
        Metric::new("s_bytes", leak(&case.help), Family::new(["route"], new)).with_unit("bytes"),
    );
    let child = summary.labels([case.label.as_str()]);
    for v in &case.observations {
        child.observe(*v);
    }
    let (total, sum) = count_and_sum(&case.observations);
    // The values the window holds now (it spans ten minutes): what the expositions,
    // encoded just after, must read back exactly.
    let values = child.quantiles();
    assert_eq!(values.len(), if quantiles { QUANTILES.len() } else { 0 });
    let route = || label("route", &case.label);
    let mut documents = Vec::new();
    for format in [Format::Text, Format::OpenMetrics] {
        let om = format == Format::OpenMetrics;
        let mut samples = Vec::new();
        // OpenMetrics forbids negative quantile values: those are left out there.
        for (q, value) in values
            .iter()
            .filter(|(_, v)| !om || v.is_nan() || *v >= 0.0)
        {
            let spelled = match *q {
                0.0 => "0.0",
                0.5 => "0.5",
                0.99 => "0.99",
                _ => "1.0",
            };
            samples.push(sample(
                "s_bytes",
                vec![route(), label("quantile", spelled)],
                Some(*value),
            ));
        }
        if !om || sum >= 0.0 {
            samples.push(sample(
                "s_bytes_count",
                vec![route()],
                Some(f64::from(total)),
            ));
            samples.push(sample("s_bytes_sum", vec![route()], Some(sum)));
        }
        if om {
            samples.push(sample("s_bytes_created", vec![route()], None));
        }
        let family = Expected {
            name: "s_bytes",
            header: "s_bytes",
            kind: "summary",
            help: &case.help,
            unit: if om { "bytes" } else { "" },
            samples,
        };
        let part = if quantiles {
            "summary with quantiles"
        } else {
            "summary"
        };
        documents.push(document(index, part, format, &registry, vec![family]));
    }
    documents
}

// ---------------------------------------------------------------------------------------
// Running the checker
// ---------------------------------------------------------------------------------------

/// A runner seeded from `PROMLINK_PROPTEST_SEED`, or at random; returns the seed too.
fn runner() -> (TestRunner, u64) {
    let seed = std::env::var("PROMLINK_PROPTEST_SEED").ok().map_or_else(
        || {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the clock is past 1970");
            now.as_secs() ^ u64::from(now.subsec_nanos()) << 32 ^ u64::from(std::process::id())
        },
        |s| {
            s.parse()
                .unwrap_or_else(|_| panic!("PROMLINK_PROPTEST_SEED={s:?} is not a u64"))
        },
    );
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    (TestRunner::new_with_rng(Config::default(), rng), seed)
}

fn sample_cases<S: Strategy>(runner: &mut TestRunner, strategy: &S, n: usize) -> Vec<S::Value> {
    (0..n)
        .map(|_| {
            strategy
                .new_tree(runner)
                .unwrap_or_else(|e| panic!("generating a case: {e}"))
                .current()
        })
        .collect()
}

/// Writes `documents` as JSON lines and has `round_trip.py` check them all.
fn check_with_python(test: &str, documents: &[Json], seed: u64) {
    let mut lines = String::new();
    for document in documents {
        document.write(&mut lines);
        lines.push('\n');
    }
    let dir = scratch_dir(test);
    let path = dir.join("cases.jsonl");
    std::fs::write(&path, lines).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    match run_python("round_trip.py", &[&path]) {
        Ok(passed) => {
            eprint!("{}", passed.stderr);
            std::fs::remove_dir_all(&dir).ok();
        }
        Err(report) => panic!(
            "{report}\nReplay with PROMLINK_PROPTEST_SEED={seed}; the cases are in {}.",
            path.display()
        ),
    }
}

#[test]
fn expositions_read_back_exactly() {
    let (mut runner, seed) = runner();
    let mains = sample_cases(&mut runner, &main_case(), CASES);
    let histograms = sample_cases(&mut runner, &observed_case(non_negative_bounds()), CASES);
    let summaries = sample_cases(&mut runner, &observed_case(non_negative_bounds()), CASES);

    let mut documents = Vec::new();
    for (index, ((main, histogram), summary)) in
        mains.iter().zip(&histograms).zip(&summaries).enumerate()
    {
        documents.extend(main_documents(index, main));
        documents.extend(histogram_documents(index, "histogram", histogram));
        // Every other summary computes quantiles.
        documents.extend(summary_documents(index, summary, index % 2 == 1));
    }
    check_with_python("exposition_proptest", &documents, seed);
}

/// Histograms with a negative bound: OpenMetrics then forbids `_sum`, and `_count` with
/// it ("if and only if a Sum Value is present ... _count").
///
/// (promlink once dropped `_sum` but kept `_count`, which the OpenMetrics parser refuses
/// with "_sum/_gsum must be present if _count is present".)
#[test]
fn negative_bucket_histograms_read_back_exactly() {
    let (mut runner, seed) = runner();
    let cases = sample_cases(&mut runner, &observed_case(negative_bounds()), CASES / 4);
    let documents: Vec<Json> = cases
        .iter()
        .enumerate()
        .flat_map(|(index, case)| histogram_documents(index, "negative-bucket histogram", case))
        .collect();
    check_with_python("exposition_proptest_negative_buckets", &documents, seed);
}
