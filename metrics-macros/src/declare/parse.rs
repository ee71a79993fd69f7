//! `declare_metrics! { .. }` read into a typed model, keeping every token's span.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    braced, bracketed, Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta, Path, Token, Type,
    Visibility,
};

use crate::buckets::Buckets;
use crate::native::Native;
use crate::quantiles::Quantiles;

mod kw {
    syn::custom_keyword!(counter);
    syn::custom_keyword!(gauge);
    syn::custom_keyword!(histogram);
    syn::custom_keyword!(summary);
    syn::custom_keyword!(info);
    syn::custom_keyword!(stateset);
    syn::custom_keyword!(buckets);
    syn::custom_keyword!(native);
    syn::custom_keyword!(states);
    syn::custom_keyword!(quantiles);
}

/// The whole invocation.
pub(crate) struct Input {
    /// `crate = path;`: where promlink is, when reached through a re-export.
    pub(crate) krate: Option<Path>,
    pub(crate) metrics: Vec<MetricDecl>,
}

/// The type of a declared metric.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Info,
    StateSet,
}

impl Kind {
    /// The keyword with its article, for messages: "a counter", "an info".
    pub(crate) fn described(self) -> String {
        let article = if self == Kind::Info { "an" } else { "a" };
        format!("{article} {}", self.keyword())
    }

    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Info => "info",
            Kind::StateSet => "stateset",
        }
    }
}

/// One declaration: `/// help` `#[metric(..)]` `vis kind NAME { labels } buckets [..] native(..);`
pub(crate) struct MetricDecl {
    /// Attributes passed through to the static: docs, `cfg`, `allow`...
    pub(crate) attrs: Vec<Attribute>,
    /// The doc comment's text, lines joined, trimmed; `None` without one.
    pub(crate) doc: Option<String>,
    pub(crate) options: Vec<MetricOption>,
    /// `#[metric(const_labels(name = "value", ..))]`: labels every series has.
    pub(crate) const_labels: Vec<(Ident, Expr)>,
    /// `#[metric(max_series = N)]`: the family's cardinality limit, each time it is given.
    pub(crate) max_series: Vec<Expr>,
    pub(crate) vis: Visibility,
    pub(crate) kind: Kind,
    pub(crate) kind_span: Span,
    pub(crate) ident: Ident,
    pub(crate) labels: Option<Labels>,
    pub(crate) buckets: Option<Buckets>,
    /// `native` or `native(..)`: native buckets, beside `buckets` or alone.
    pub(crate) native: Option<Native>,
    /// `quantiles [..]`: a summary's quantiles.
    pub(crate) quantiles: Option<Quantiles>,
    pub(crate) states: Option<States>,
}

/// `#[metric(name = "..", unit = "..", help = "..", sharded)]`: a value, or a flag.
pub(crate) struct MetricOption {
    pub(crate) key: Ident,
    pub(crate) value: Option<LitStr>,
}

pub(crate) struct Labels {
    pub(crate) span: Span,
    pub(crate) labels: Vec<LabelDecl>,
}

/// `#[unbounded] name: Type`.
pub(crate) struct LabelDecl {
    pub(crate) unbounded: bool,
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

pub(crate) struct States {
    pub(crate) keyword: Span,
    pub(crate) states: Vec<LitStr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut krate = None;
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            krate = Some(input.parse()?);
            input.parse::<Token![;]>()?;
        }
        let mut metrics = Vec::new();
        while !input.is_empty() {
            metrics.push(input.parse()?);
        }
        Ok(Input { krate, metrics })
    }
}

/// A declaration's attributes: `#[metric(..)]` read into options and constant labels, the
/// others (docs among them) passed through, with the doc comment's lines.
#[derive(Default)]
struct DeclAttributes {
    attrs: Vec<Attribute>,
    options: Vec<MetricOption>,
    const_labels: Vec<(Ident, Expr)>,
    max_series: Vec<Expr>,
    doc_lines: Vec<String>,
}

impl Parse for DeclAttributes {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut read = DeclAttributes::default();
        for attr in input.call(Attribute::parse_outer)? {
            if attr.path().is_ident("metric") {
                let parsed =
                    attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
                for meta in parsed {
                    match &meta {
                        Meta::List(list) if list.path.is_ident("const_labels") => {
                            read.const_labels.extend(parse_const_labels(list)?);
                        }
                        // Any expression (a literal, a `const`): rustc checks its type.
                        Meta::NameValue(nv) if nv.path.is_ident("max_series") => {
                            read.max_series.push(nv.value.clone());
                        }
                        _ => read.options.push(parse_option(&meta)?),
                    }
                }
                continue;
            }
            if attr.path().is_ident("doc") {
                if let Meta::NameValue(nv) = &attr.meta {
                    if let Some(line) = string_literal(&nv.value) {
                        read.doc_lines.push(line.value());
                    }
                }
            }
            read.attrs.push(attr);
        }
        Ok(read)
    }
}

impl Parse for MetricDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let DeclAttributes {
            attrs,
            options,
            const_labels,
            max_series,
            doc_lines,
        } = input.parse()?;
        let vis = input.parse()?;
        let (kind, kind_span) = parse_kind(input)?;
        let ident: Ident = input.parse()?;
        let labels = if input.peek(syn::token::Brace) {
            Some(parse_labels(input)?)
        } else {
            None
        };
        let mut buckets = None;
        let mut native = None;
        let mut quantiles = None;
        let mut states = None;
        loop {
            let lookahead = input.lookahead1();
            if lookahead.peek(Token![;]) {
                input.parse::<Token![;]>()?;
                break;
            } else if lookahead.peek(kw::buckets) {
                let keyword = input.parse::<kw::buckets>()?.span;
                if buckets.is_some() {
                    return Err(syn::Error::new(
                        keyword,
                        "`buckets` is given more than once",
                    ));
                }
                buckets = Some(Buckets::parse(keyword, input)?);
            } else if lookahead.peek(kw::native) {
                let keyword = input.parse::<kw::native>()?.span;
                if native.is_some() {
                    return Err(syn::Error::new(keyword, "`native` is given more than once"));
                }
                native = Some(Native::parse(keyword, input)?);
            } else if lookahead.peek(kw::states) {
                let keyword = input.parse::<kw::states>()?.span;
                if states.is_some() {
                    return Err(syn::Error::new(keyword, "`states` is given more than once"));
                }
                let content;
                bracketed!(content in input);
                let states_list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                states = Some(States {
                    keyword,
                    states: states_list.into_iter().collect(),
                });
            } else if lookahead.peek(kw::quantiles) {
                let keyword = input.parse::<kw::quantiles>()?.span;
                if quantiles.is_some() {
                    return Err(syn::Error::new(
                        keyword,
                        "`quantiles` is given more than once",
                    ));
                }
                quantiles = Some(Quantiles::parse(keyword, input)?);
            } else if input.peek(Token![#]) || input.peek(Token![pub]) || starts_a_kind(input) {
                // The next declaration: this one lacks its `;`.
                let end = labels.as_ref().map_or(ident.span(), |l| l.span);
                return Err(syn::Error::new(
                    end,
                    format_args!("expected `;` after the declaration of `{ident}`"),
                ));
            } else {
                return Err(lookahead.error());
            }
        }
        let doc = if doc_lines.is_empty() {
            None
        } else {
            let lines: Vec<&str> = doc_lines.iter().map(|l| l.trim()).collect();
            Some(lines.join("\n").trim().to_owned())
        };
        Ok(MetricDecl {
            attrs,
            doc,
            options,
            const_labels,
            max_series,
            vis,
            kind,
            kind_span,
            ident,
            labels,
            buckets,
            native,
            quantiles,
            states,
        })
    }
}

/// `const_labels(name = "value", ..)`; values are checked to be strings later, with the
/// other rules.
fn parse_const_labels(list: &syn::MetaList) -> syn::Result<Vec<(Ident, Expr)>> {
    let expected =
        "constant labels are written `const_labels(service = \"orders\", region = \"eu\")`";
    let pairs = list
        .parse_args_with(Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated)
        .map_err(|e| syn::Error::new(e.span(), expected))?;
    pairs
        .into_iter()
        .map(|pair| {
            let name = pair
                .path
                .get_ident()
                .cloned()
                .ok_or_else(|| syn::Error::new_spanned(&pair.path, expected))?;
            Ok((name, pair.value))
        })
        .collect()
}

/// The string literal `expr` is, if it is one.
pub(crate) fn string_literal(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(value),
            ..
        }) => Some(value),
        _ => None,
    }
}

fn parse_option(meta: &Meta) -> syn::Result<MetricOption> {
    let expected = "expected `name = \"..\"`, `unit = \"..\"`, `help = \"..\"`, `const_labels(..)`, `max_series = N` or `sharded`";
    let nv = match meta {
        Meta::Path(path) => match path.get_ident() {
            Some(key) if key == "sharded" => {
                return Ok(MetricOption {
                    key: key.clone(),
                    value: None,
                })
            }
            Some(key) if ["name", "unit", "help"].contains(&key.to_string().as_str()) => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` takes a string literal: `{key} = \"..\"`"),
                ))
            }
            _ => return Err(syn::Error::new(meta.span(), expected)),
        },
        Meta::NameValue(nv) => nv,
        Meta::List(_) => return Err(syn::Error::new(meta.span(), expected)),
    };
    let key = nv.path.get_ident().cloned().ok_or_else(|| {
        syn::Error::new_spanned(
            &nv.path,
            "unknown option: expected `name`, `unit`, `help`, `max_series` or `sharded`",
        )
    })?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(value),
        ..
    }) = &nv.value
    else {
        return Err(syn::Error::new(
            nv.value.span(),
            if key == "sharded" {
                "`sharded` takes no value: `#[metric(sharded)]`".to_owned()
            } else {
                format!("`{key}` takes a string literal: `{key} = \"..\"`")
            },
        ));
    };
    Ok(MetricOption {
        key,
        value: Some(value.clone()),
    })
}

/// Whether the input starts with the keyword of a metric kind.
fn starts_a_kind(input: ParseStream<'_>) -> bool {
    input.peek(kw::counter)
        || input.peek(kw::gauge)
        || input.peek(kw::histogram)
        || input.peek(kw::summary)
        || input.peek(kw::info)
        || input.peek(kw::stateset)
}

fn parse_kind(input: ParseStream<'_>) -> syn::Result<(Kind, Span)> {
    if input.peek(Token![static]) {
        return Err(syn::Error::new(
            input.parse::<Token![static]>()?.span,
            "write the metric's kind where `static` is, as in `pub counter HTTP_REQUESTS_TOTAL;`: \
             `declare_metrics!` writes the static and its type",
        ));
    }
    let lookahead = input.lookahead1();
    let kind = if lookahead.peek(kw::counter) {
        (Kind::Counter, input.parse::<kw::counter>()?.span)
    } else if lookahead.peek(kw::gauge) {
        (Kind::Gauge, input.parse::<kw::gauge>()?.span)
    } else if lookahead.peek(kw::histogram) {
        (Kind::Histogram, input.parse::<kw::histogram>()?.span)
    } else if lookahead.peek(kw::summary) {
        (Kind::Summary, input.parse::<kw::summary>()?.span)
    } else if lookahead.peek(kw::info) {
        (Kind::Info, input.parse::<kw::info>()?.span)
    } else if lookahead.peek(kw::stateset) {
        (Kind::StateSet, input.parse::<kw::stateset>()?.span)
    } else {
        return Err(lookahead.error());
    };
    Ok(kind)
}

fn parse_labels(input: ParseStream<'_>) -> syn::Result<Labels> {
    let content;
    let brace = braced!(content in input);
    let mut labels = Vec::new();
    while !content.is_empty() {
        let mut attrs = Vec::new();
        let mut unbounded = false;
        for attr in content.call(Attribute::parse_outer)? {
            if attr.path().is_ident("unbounded") {
                if !matches!(attr.meta, Meta::Path(_)) {
                    return Err(syn::Error::new_spanned(
                        &attr.meta,
                        "`#[unbounded]` takes no arguments",
                    ));
                }
                unbounded = true;
            } else {
                attrs.push(attr);
            }
        }
        let ident: Ident = content.call(syn::ext::IdentExt::parse_any)?;
        if !content.peek(Token![:]) {
            return Err(syn::Error::new(
                ident.span(),
                format_args!(
                    "a label is a name and a type, as `{ident}: &str`: the type decides \
                     which values the compiler lets through (`&str`, `u16`, `bool`, an enum)"
                ),
            ));
        }
        content.parse::<Token![:]>()?;
        let ty: Type = content.parse()?;
        labels.push(LabelDecl {
            unbounded,
            attrs,
            ident,
            ty,
        });
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(Labels {
        span: brace.span.join(),
        labels,
    })
}
