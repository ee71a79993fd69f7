//! Every rule a declaration must follow, each broken one reported at the user's token.
//! All errors are collected (one `syn::Error` combining them), so a user sees them all at
//! once.

use proc_macro2::Span;
use syn::spanned::Spanned;

use super::parse::{Kind, MetricDecl};
use crate::errors::Errors;
use crate::names::{is_metric_name, label_name_problem, looks_like_identity};

/// What expansion needs beyond the declaration, every value already checked.
pub(crate) struct Checked {
    /// The metric name as written in `Metric::new` (with `_total` for counters).
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
}

/// Checks one declaration; `None` when it broke a rule (reported in `errors`).
pub(crate) fn check(decl: &MetricDecl, errors: &mut Errors) -> Option<Checked> {
    let mut local = Errors::default();
    let (name, name_span) = metric_name(decl, &mut local);
    check_name(decl, &name, name_span, &mut local);
    let unit = check_unit(decl, &name, &mut local);
    let help = help(decl, &mut local);
    check_labels(decl, &mut local);
    check_const_labels(decl, &mut local);
    check_buckets(decl, &name, unit.as_deref(), &mut local);
    check_states(decl, &mut local);
    check_max_series(decl, &mut local);
    for (i, option) in decl.options.iter().enumerate() {
        match (option.key.to_string().as_str(), &option.value) {
            ("name" | "unit" | "help", Some(_)) | ("sharded", None) => {}
            ("sharded", Some(value)) => {
                local.push(
                    value.span(),
                    "`sharded` takes no value: `#[metric(sharded)]`",
                );
            }
            _ => local.push(
                option.key.span(),
                format_args!(
                    "unknown option `{}`: expected `name`, `unit`, `help`, `max_series` or `sharded`",
                    option.key
                ),
            ),
        }
        if option.key == "sharded" && decl.kind != Kind::Counter {
            local.push(
                option.key.span(),
                format_args!(
                    "only a counter can be sharded, not {}: `sharded` spreads a counter's \
                     increments over cache lines",
                    decl.kind.described()
                ),
            );
        }
        if decl.options[..i].iter().any(|o| o.key == option.key) {
            local.push(
                option.key.span(),
                format_args!("`{}` is given more than once", option.key),
            );
        }
    }
    match local.into_result() {
        Ok(()) => Some(Checked {
            name,
            help: help.unwrap_or_default(),
            unit,
        }),
        Err(error) => {
            errors.push_error(error);
            None
        }
    }
}

/// The unit given with `unit = ".."`.
pub(crate) fn unit(decl: &MetricDecl) -> Option<String> {
    option(decl, "unit").map(syn::LitStr::value)
}

fn option<'a>(decl: &'a MetricDecl, key: &str) -> Option<&'a syn::LitStr> {
    decl.options
        .iter()
        .find(|o| o.key == key)
        .and_then(|o| o.value.as_ref())
}

/// Whether `#[metric(sharded)]` is given.
pub(crate) fn sharded(decl: &MetricDecl) -> bool {
    decl.options.iter().any(|o| o.key == "sharded")
}

fn metric_name(decl: &MetricDecl, errors: &mut Errors) -> (String, Span) {
    if let Some(name) = option(decl, "name") {
        return (name.value(), name.span());
    }
    let ident = decl.ident.to_string();
    let ident = ident.strip_prefix("r#").unwrap_or(&ident);
    if ident.chars().any(char::is_lowercase) {
        errors.push(
            decl.ident.span(),
            format_args!(
                "metric statics are named in SCREAMING_SNAKE_CASE, from which the metric name is derived: `{}`",
                ident.to_uppercase()
            ),
        );
    }
    (ident.to_ascii_lowercase(), decl.ident.span())
}

fn check_name(decl: &MetricDecl, name: &str, span: Span, errors: &mut Errors) {
    if !is_metric_name(name) {
        errors.push(
            span,
            format_args!(
                "`{name}` is not a valid metric name: it must match [a-zA-Z_:][a-zA-Z0-9_:]*"
            ),
        );
        return;
    }
    if let Some(problem) = crate::names::unit_problem(name) {
        errors.push(span, problem);
    }
    let ends_in_total = name.ends_with("_total");
    if decl.kind == Kind::Counter && !ends_in_total {
        errors.push(
            span,
            format_args!("a counter's name ends in `_total` (Prometheus' naming rule, checked by promtool): `{name}_total`"),
        );
    }
    if decl.kind != Kind::Counter && ends_in_total {
        errors.push(
            span,
            format_args!(
                "only counters end in `_total`; this is {}",
                decl.kind.described()
            ),
        );
    }
    if decl.kind == Kind::Counter && name == "_total" {
        errors.push(span, "a counter needs a name before `_total`");
    }
    for suffix in ["_created", "_bucket", "_count", "_sum", "_info"] {
        let allowed = decl.kind == Kind::Info && suffix == "_info";
        if name.ends_with(suffix) && !allowed {
            errors.push(span, format_args!("`{suffix}` is a suffix Prometheus reserves for the samples of other metric types"));
        }
    }
    if decl.kind == Kind::StateSet && name.contains(':') {
        errors.push(
            span,
            "a state set's name is also its label name, so it cannot contain `:`",
        );
    }
}

fn check_unit(decl: &MetricDecl, name: &str, errors: &mut Errors) -> Option<String> {
    let unit = option(decl, "unit")?;
    let value = unit.value();
    if matches!(decl.kind, Kind::Info | Kind::StateSet) {
        errors.push(
            unit.span(),
            format_args!(
                "{} has no unit (OpenMetrics forbids it)",
                decl.kind.described()
            ),
        );
    }
    let base = name.strip_suffix("_total").unwrap_or(name);
    let valid = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        errors.push(unit.span(), "a unit is made of [a-zA-Z0-9_]");
    } else if !base
        .strip_suffix(value.as_str())
        .is_some_and(|head| head.len() > 1 && head.ends_with('_'))
    {
        errors.push(
            unit.span(),
            format_args!("the metric name must end with its unit (OpenMetrics requires it): `{base}_{value}`"),
        );
    }
    Some(value)
}

fn help(decl: &MetricDecl, errors: &mut Errors) -> Option<String> {
    if let Some(help) = option(decl, "help") {
        return Some(help.value());
    }
    match &decl.doc {
        Some(doc) if !doc.is_empty() => Some(doc.clone()),
        _ => {
            errors.push(
                decl.ident.span(),
                format_args!(
                    "`{}` needs a doc comment: it becomes the metric's HELP text, which promtool requires",
                    decl.ident
                ),
            );
            None
        }
    }
}

fn check_labels(decl: &MetricDecl, errors: &mut Errors) {
    let Some(labels) = &decl.labels else { return };
    if matches!(decl.kind, Kind::Info | Kind::StateSet) {
        errors.push(
            labels.span,
            format_args!("{} takes no labels", decl.kind.described()),
        );
        return;
    }
    if labels.labels.is_empty() {
        errors.push(
            labels.span,
            "an empty label list: leave out the braces for a metric without labels",
        );
    }
    let reserved = match decl.kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        _ => None,
    };
    if let Some(thirteenth) = labels.labels.get(MAX_LABELS) {
        errors.push(
            thirteenth.ident.span(),
            format_args!(
                "a metric has at most {MAX_LABELS} labels, and this is label {}: every \
                 combination of values is a series of its own, so fewer labels also means \
                 fewer series",
                MAX_LABELS + 1
            ),
        );
    }
    for label in &labels.labels {
        if let Some(problem) = label_type_problem(&label.ty) {
            errors.push(label.ty.span(), problem);
        }
    }
    for (i, label) in labels.labels.iter().enumerate() {
        let name = label.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        if let Some(problem) = label_name_problem(name, reserved) {
            errors.push(label.ident.span(), problem);
        }
        if labels.labels[..i].iter().any(|l| l.ident == label.ident) {
            errors.push(
                label.ident.span(),
                format_args!("the label `{name}` is declared twice"),
            );
        }
        // A declared `max_series` bounds it: the cost is accepted, and capped.
        if looks_like_identity(name) && !label.unbounded && decl.max_series.is_empty() {
            errors.push(
                label.ident.span(),
                format_args!(
                    "`{name}` looks like a per-user or per-request identity: every distinct value \
                     becomes a new time series, held in Prometheus' memory for as long as it is \
                     scraped. Use a bounded label instead (a tier, a status class), record \
                     identities in logs or traces, or, if its values are known to be few, mark it \
                     `#[unbounded] {name}: ..` to accept the cost, or cap it with \
                     `#[metric(max_series = N)]`"
                ),
            );
        }
    }
}

/// The most labels a declared metric has: the longest tuple `LabelValues` is implemented
/// for.
pub(crate) const MAX_LABELS: usize = 12;

/// Why a label's type, by its spelling, cannot be a label value, if it cannot.
pub(crate) fn label_type_problem(ty: &syn::Type) -> Option<String> {
    use syn::Type;
    let text = || {
        quote::ToTokens::to_token_stream(ty)
            .to_string()
            .replace(' ', "")
    };
    match ty {
        Type::Reference(reference) => label_type_problem(&reference.elem),
        Type::Paren(paren) => label_type_problem(&paren.elem),
        Type::Group(group) => label_type_problem(&group.elem),
        Type::Slice(_) | Type::Array(_) => Some(format!(
            "`{}` cannot be a label value: label values are UTF-8 text; use `&str` or \
             `String` (for bytes, decode them, or hex-encode them, before the lookup)",
            text()
        )),
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            match last.ident.to_string().as_str() {
                "f32" | "f64" => Some(format!(
                    "`{}` cannot be a label value: every distinct float would be a series of \
                     its own, and floats have no one exact spelling. Use an integer (say, \
                     milliseconds), an enum of ranges deriving `LabelValue`, or a histogram \
                     to observe the value",
                    last.ident
                )),
                "Option" => Some(format!(
                    "`{}` cannot be a label value: Prometheus has no absent label value (an \
                     empty one is the same as no label). Use `&str` and pass a value for the \
                     absent case: `region.unwrap_or(\"unknown\")`",
                    text()
                )),
                "Vec" if text().contains("u8") => Some(format!(
                    "`{}` cannot be a label value: label values are UTF-8 text; use `String`",
                    text()
                )),
                _ => None,
            }
        }
        Type::Tuple(_)
        | Type::Ptr(_)
        | Type::BareFn(_)
        | Type::TraitObject(_)
        | Type::ImplTrait(_) => Some(format!(
            "`{}` cannot be a label value: use a string, an integer, `bool`, or an enum \
                 deriving `LabelValue`",
            text()
        )),
        _ => None,
    }
}

fn check_const_labels(decl: &MetricDecl, errors: &mut Errors) {
    let reserved = match decl.kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        _ => None,
    };
    let variable = decl.labels.iter().flat_map(|l| &l.labels);
    for (i, (name, value)) in decl.const_labels.iter().enumerate() {
        let text = name.to_string();
        if super::parse::string_literal(value).is_none() {
            errors.push(
                value.span(),
                format_args!("a constant label's value is a string literal: `{text} = \"..\"`"),
            );
        }
        if let Some(problem) = label_name_problem(&text, reserved) {
            errors.push(name.span(), problem);
        }
        if decl.kind == Kind::StateSet && decl.ident.to_string().eq_ignore_ascii_case(&text) {
            errors.push(name.span(), "a state set's own name is its label");
        }
        if decl.const_labels[..i].iter().any(|(n, _)| n == name) {
            errors.push(
                name.span(),
                format_args!("the constant label `{text}` is given twice"),
            );
        }
        if variable.clone().any(|l| l.ident == *name) {
            errors.push(
                name.span(),
                format_args!("`{text}` is already a label of this metric, with a value per series"),
            );
        }
    }
}

fn check_buckets(decl: &MetricDecl, name: &str, unit: Option<&str>, errors: &mut Errors) {
    if let Some(quantiles) = &decl.quantiles {
        if decl.kind == Kind::Summary {
            quantiles.check(errors);
        } else {
            errors.push(
                quantiles.keyword,
                format_args!(
                    "only summaries have quantiles; this is {}",
                    decl.kind.described()
                ),
            );
        }
    }
    if let Some(native) = &decl.native {
        if decl.kind == Kind::Histogram {
            native.check(errors);
        } else {
            errors.push(
                native.keyword,
                format_args!(
                    "only histograms have native buckets; this is {}",
                    decl.kind.described()
                ),
            );
        }
    }
    let Some(buckets) = &decl.buckets else { return };
    if decl.kind != Kind::Histogram {
        errors.push(
            buckets.keyword,
            format_args!(
                "only histograms have buckets; this is {}",
                decl.kind.described()
            ),
        );
        return;
    }
    buckets.check(crate::buckets::never_negative(name, unit), errors);
}

fn check_states(decl: &MetricDecl, errors: &mut Errors) {
    match (&decl.states, decl.kind) {
        (None, Kind::StateSet) => {
            errors.push(
                decl.ident.span(),
                "a state set lists its states: `stateset NAME states [\"a\", \"b\"];`",
            );
        }
        (Some(states), Kind::StateSet) => {
            if states.states.is_empty() || states.states.len() > 64 {
                errors.push(states.keyword, "a state set has 1 to 64 states");
            }
            for (i, state) in states.states.iter().enumerate() {
                if states.states[..i]
                    .iter()
                    .any(|s| s.value() == state.value())
                {
                    errors.push(
                        state.span(),
                        format_args!("the state {:?} is listed twice", state.value()),
                    );
                }
            }
        }
        (Some(states), _) => {
            errors.push(
                states.keyword,
                format_args!(
                    "only state sets have states; this is {}",
                    decl.kind.described()
                ),
            );
        }
        (None, _) => {}
    }
}

/// `max_series` once, and on a labelled metric.
fn check_max_series(decl: &MetricDecl, errors: &mut Errors) {
    for (i, limit) in decl.max_series.iter().enumerate() {
        if i > 0 {
            errors.push(limit.span(), "`max_series` is given more than once");
        } else if decl.labels.is_none() {
            errors.push(
                limit.span(),
                "`max_series` limits the label sets of a labelled metric; this one has no labels",
            );
        }
    }
}
