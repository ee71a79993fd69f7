//! The arguments of `#[counted]`, `#[timed]` and `#[in_progress]`, parsed into a typed
//! model and checked.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Expr, Ident, LitStr, Path, Token};

use crate::buckets::Buckets;
use crate::errors::Errors;
use crate::names::is_metric_name;
use crate::native::Native;

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(help);
    syn::custom_keyword!(buckets);
    syn::custom_keyword!(native);
    syn::custom_keyword!(labels);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(function);
}

/// Every argument, for the messages about an unknown one.
const EXPECTED: &str =
    "`name`, `help`, `buckets`, `native`, `labels`, `function`, `skip`, `crate`, or a target metric first";

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    Counted,
    Timed,
    InProgress,
}

impl Attr {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Attr::Counted => "counted",
            Attr::Timed => "timed",
            Attr::InProgress => "in_progress",
        }
    }
}

/// Everything an attribute may say.
#[derive(Default)]
pub(crate) struct Args {
    /// A metric declared with `declare_metrics!` to feed instead of the shared family.
    pub(crate) target: Option<Path>,
    /// `labels(name = expr, ..)` for the target.
    pub(crate) labels: Option<(Span, Vec<LabelArg>)>,
    pub(crate) name: Option<LitStr>,
    pub(crate) help: Option<LitStr>,
    pub(crate) buckets: Option<Buckets>,
    /// `native` or `native(..)`: native buckets, beside `buckets` or alone.
    pub(crate) native: Option<Native>,
    pub(crate) krate: Option<Path>,
    /// `function = ".."`: the `function` label, for a method whose attribute cannot see
    /// its type.
    pub(crate) function: Option<LitStr>,
    /// `skip`: opts a method out of its impl block's attribute.
    pub(crate) skip: Option<Span>,
}

/// `name = expr` in `labels(..)`.
pub(crate) struct LabelArg {
    pub(crate) name: Ident,
    pub(crate) value: Expr,
}

impl Parse for LabelArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![=]>()?;
        Ok(LabelArg {
            name,
            value: input.parse()?,
        })
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut first = true;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::name) {
                let key = input.parse::<kw::name>()?;
                input.parse::<Token![=]>()?;
                set_once(&mut args.name, input.parse()?, key.span, "name")?;
            } else if lookahead.peek(kw::help) {
                let key = input.parse::<kw::help>()?;
                input.parse::<Token![=]>()?;
                set_once(&mut args.help, input.parse()?, key.span, "help")?;
            } else if lookahead.peek(kw::buckets) {
                let key = input.parse::<kw::buckets>()?;
                input.parse::<Token![=]>()?;
                set_once(
                    &mut args.buckets,
                    Buckets::parse(key.span, input)?,
                    key.span,
                    "buckets",
                )?;
            } else if lookahead.peek(kw::native) {
                let key = input.parse::<kw::native>()?;
                set_once(
                    &mut args.native,
                    Native::parse(key.span, input)?,
                    key.span,
                    "native",
                )?;
            } else if lookahead.peek(kw::labels) {
                let key = input.parse::<kw::labels>()?;
                let content;
                parenthesized!(content in input);
                let labels = Punctuated::<LabelArg, Token![,]>::parse_terminated(&content)?;
                set_once(
                    &mut args.labels,
                    (key.span, labels.into_iter().collect()),
                    key.span,
                    "labels",
                )?;
            } else if lookahead.peek(kw::function) {
                let key = input.parse::<kw::function>()?;
                input.parse::<Token![=]>()?;
                set_once(&mut args.function, input.parse()?, key.span, "function")?;
            } else if lookahead.peek(kw::skip) {
                let key = input.parse::<kw::skip>()?;
                set_once(&mut args.skip, key.span, key.span, "skip")?;
            } else if input.peek(Token![crate]) && input.peek2(Token![=]) {
                let key = input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                set_once(&mut args.krate, input.parse()?, key.span, "crate")?;
            } else if first
                && (lookahead.peek(Ident)
                    || lookahead.peek(Token![crate])
                    || lookahead.peek(Token![::])
                    || lookahead.peek(Token![self])
                    || lookahead.peek(Token![super]))
            {
                let target: Path = input.parse()?;
                if input.peek(Token![=]) {
                    let name = target
                        .segments
                        .last()
                        .map_or_else(String::new, |s| s.ident.to_string());
                    return Err(syn::Error::new_spanned(
                        &target,
                        format!("unknown argument `{name}`: expected {EXPECTED}"),
                    ));
                }
                args.target = Some(target);
            } else if first && input.peek(LitStr) {
                let name: LitStr = input.parse()?;
                return Err(syn::Error::new(
                    name.span(),
                    format!(
                        "a metric of its own is named with `name = {:?}`; a metric declared \
                         with `declare_metrics!` is given by its static, as in \
                         `#[counted(ORDERS_TOTAL)]`",
                        name.value()
                    ),
                ));
            } else if input.peek(Ident::peek_any) && !first {
                let key = input.call(Ident::parse_any)?;
                let message = if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    format!("unknown argument `{key}`: expected {EXPECTED}")
                } else {
                    format!("unknown argument `{key}`: expected {EXPECTED}; a target metric comes first")
                };
                return Err(syn::Error::new(key.span(), message));
            } else {
                return Err(lookahead.error());
            }
            first = false;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("`{key}` is given more than once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Args {
    /// `skip` and nothing else (`crate` aside): what opts a method out of its impl
    /// block's attribute.
    pub(crate) fn skip_alone(&self) -> bool {
        self.skip.is_some()
            && self.target.is_none()
            && self.labels.is_none()
            && self.name.is_none()
            && self.help.is_none()
            && self.buckets.is_none()
            && self.native.is_none()
            && self.function.is_none()
    }

    /// Checks what parsing could not: combinations, names and buckets.
    pub(crate) fn check(&self, attr: Attr) -> syn::Result<()> {
        let mut errors = Errors::default();
        if let Some(skip) = self.skip {
            let message = if self.skip_alone() {
                format!("`skip` opts a method out of `#[{}]` on its impl block; here there is none to opt out of", attr.name())
            } else {
                "`skip` takes no other arguments".to_owned()
            };
            errors.push(skip, message);
        }
        if let (None, Some((span, _))) = (&self.target, &self.labels) {
            errors.push(*span, "`labels(..)` are the label values of a target metric: name one first, as in `#[counted(HTTP_REQUESTS_TOTAL, labels(..))]`");
        }
        if self.target.is_some() {
            let set_elsewhere = [
                self.name.as_ref().map(LitStr::span),
                self.help.as_ref().map(LitStr::span),
                self.buckets.as_ref().map(|b| b.keyword),
                self.native.as_ref().map(|n| n.keyword),
            ];
            for span in set_elsewhere.into_iter().flatten() {
                errors.push(span, "a target metric's name, help and buckets (native or classic) are set where `declare_metrics!` declares it");
            }
        }
        if let (Some(_), Some(function)) = (&self.target, &self.function) {
            errors.push(function.span(), "`function` labels the shared family `function_calls_total` and metrics of their own; a target metric has only the labels `declare_metrics!` gave it");
        }
        if let Some(function) = &self.function {
            if function.value().is_empty() {
                errors.push(
                    function.span(),
                    "`function` needs a name, such as `\"Type::method\"`",
                );
            }
        }
        if let Some(buckets) = &self.buckets {
            if attr == Attr::Timed {
                buckets.check(true, &mut errors);
            } else {
                errors.push(
                    buckets.keyword,
                    format_args!(
                        "`#[{}]` has no buckets: only `#[timed]` observes durations",
                        attr.name()
                    ),
                );
            }
        }
        if let Some(native) = &self.native {
            if attr == Attr::Timed {
                native.check(&mut errors);
            } else {
                errors.push(
                    native.keyword,
                    format_args!(
                        "`#[{}]` has no native buckets: only `#[timed]` observes durations",
                        attr.name()
                    ),
                );
            }
        }
        if let Some(name) = &self.name {
            if let Some(problem) = name_problem(attr, &name.value()) {
                errors.push(name.span(), problem);
            }
        }
        errors.into_result()
    }
}

/// Why `name` cannot be the metric of `attr`, if it cannot.
fn name_problem(attr: Attr, name: &str) -> Option<String> {
    if !is_metric_name(name) {
        return Some(format!(
            "`{name}` is not a valid metric name: it must match [a-zA-Z_:][a-zA-Z0-9_:]*"
        ));
    }
    if let Some(problem) = crate::names::unit_problem(name) {
        return Some(problem);
    }
    let total = name.ends_with("_total");
    match attr {
        Attr::Counted if !total => Some(format!("a counter's name ends in `_total`: `{name}_total`")),
        Attr::Timed if !name.ends_with("_seconds") => Some(format!("`#[timed]` observes seconds, so its histogram's name ends in `_seconds`: `{name}_seconds`")),
        Attr::Timed | Attr::InProgress if total => Some("only counters end in `_total`".to_owned()),
        _ => None,
    }
}
