//! Histogram buckets as both macros take them: number literals checked by the macro, or
//! the path of a `const` array (shared by several metrics) checked in `const` evaluation;
//! expanded into `Histogram<N>` with the user's spans.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, ExprLit, Lit, Token};

use crate::errors::Errors;
use crate::native::Native;

/// `buckets [..]` (or `buckets = [..]`), or `buckets NAME` for a `const` array: where
/// the keyword was and the bounds.
pub(crate) struct Buckets {
    pub(crate) keyword: Span,
    pub(crate) bounds: Vec<Bound>,
    /// The path of a `const [f64; N]`, when the bounds are not written here.
    pub(crate) constant: Option<syn::Path>,
}

/// One bucket bound: its value and the user's tokens.
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) expr: Expr,
}

impl Buckets {
    /// Parses `[bound, ..]`, or the path of a `const` array, after the keyword.
    pub(crate) fn parse(keyword: Span, input: ParseStream<'_>) -> syn::Result<Buckets> {
        if !input.peek(syn::token::Bracket) {
            let constant: syn::Path = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected bucket bounds in square brackets, `[0.1, 0.5, 1.0]`, or the name of a `const` array of them",
                )
            })?;
            if input.peek(syn::Token![!]) {
                return Err(syn::Error::new_spanned(
                    &constant,
                    "bucket bounds are written in square brackets, without a macro: \
                     `buckets [0.1, 0.5, 1.0]`",
                ));
            }
            return Ok(Buckets {
                keyword,
                bounds: Vec::new(),
                constant: Some(constant),
            });
        }
        let content;
        bracketed!(content in input);
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        let bounds = exprs
            .into_iter()
            .map(|expr| {
                let value = literal_value(&expr).ok_or_else(|| {
                    syn::Error::new(
                        expr.span(),
                        "bucket bounds in a list are number literals, so that they can be checked at compile time; \
                         to share bounds, name a `const` array instead: `buckets LATENCY_BUCKETS`",
                    )
                })?;
                Ok(Bound { value, expr })
            })
            .collect::<syn::Result<_>>()?;
        Ok(Buckets {
            keyword,
            bounds,
            constant: None,
        })
    }

    /// Checks the bounds: at least one, finite, strictly increasing, and not negative for
    /// a measure that cannot be (`non_negative`: durations, sizes).
    /// A `const` array is checked where it expands, in `const` evaluation.
    pub(crate) fn check(&self, non_negative: bool, errors: &mut Errors) {
        if self.constant.is_some() {
            return;
        }
        if self.bounds.is_empty() {
            errors.push(
                self.keyword,
                "a histogram needs at least one bucket bound (`+Inf` is implied)",
            );
        }
        for (i, bound) in self.bounds.iter().enumerate() {
            let span = bound.expr.span();
            if !bound.value.is_finite() {
                errors.push(
                    span,
                    "bucket bounds must be finite: `+Inf` is always implied",
                );
                continue;
            }
            if non_negative && bound.value < 0.0 {
                errors.push(
                    span,
                    "a negative bucket for durations or sizes, which are never negative",
                );
            }
            if let Some(previous) = i.checked_sub(1).map(|p| &self.bounds[p]) {
                if bound.value == previous.value {
                    errors.push(
                        span,
                        format_args!("the bucket bound {:?} is repeated", bound.value),
                    );
                } else if bound.value < previous.value {
                    errors.push(
                        span,
                        format_args!(
                            "bucket bounds must increase: {:?} comes after {:?}",
                            bound.value, previous.value
                        ),
                    );
                }
            }
        }
    }
}

/// Whether a metric measures what is never negative (durations, sizes), by its unit or
/// its name's suffix.
pub(crate) fn never_negative(name: &str, unit: Option<&str>) -> bool {
    ["seconds", "bytes"]
        .iter()
        .any(|u| unit == Some(u) || name.ends_with(&format!("_{u}")))
}

/// The histogram type and its `const` constructor: the user's buckets, Python's defaults
/// without any, or (after a validation error) as many placeholder bounds, so that the
/// type stays the one the user's code expects; with `native` buckets beside them, or
/// native buckets alone (`Histogram<0>`) when `native` is given without `buckets`.
///
/// Bounds from a `const` array are checked when the `static` is evaluated: unsorted or
/// not finite by `Histogram::new`, negative (for `non_negative` measures) by
/// `assert_non_negative_buckets`, each a compile error on the array's name.
pub(crate) fn histogram(
    p: &TokenStream,
    buckets: Option<&Buckets>,
    native: Option<&Native>,
    valid: bool,
    non_negative: bool,
    span: Span,
) -> (TokenStream, TokenStream) {
    let Some(native) = native else {
        return classic(p, buckets, valid, non_negative, span);
    };
    let spec = native.expand(p, valid);
    if buckets.is_none() {
        return (
            quote!(#p::Histogram<0>),
            quote_spanned!(span=> #p::Histogram::native(#spec)),
        );
    }
    let (ty, new) = classic(p, buckets, valid, non_negative, span);
    (ty, quote_spanned!(span=> #new.with_native(#spec)))
}

/// The histogram type and constructor of classic buckets, as [`histogram`] describes.
fn classic(
    p: &TokenStream,
    buckets: Option<&Buckets>,
    valid: bool,
    non_negative: bool,
    span: Span,
) -> (TokenStream, TokenStream) {
    let Some(buckets) = buckets else {
        return (
            quote!(#p::Histogram<14>),
            quote_spanned!(span=> #p::Histogram::new(&#p::DEFAULT_BUCKETS)),
        );
    };
    if let Some(constant) = &buckets.constant {
        // On the array's name, so that a panic in `const` evaluation points there.
        let span = constant.span();
        let p = respan(p, span);
        let bounds = if non_negative {
            quote_spanned!(span=> { #p::assert_non_negative_buckets(&#constant); &#constant })
        } else {
            quote_spanned!(span=> &#constant)
        };
        return (
            quote_spanned!(span=> #p::Histogram<{ #constant.len() }>),
            quote_spanned!(span=> #p::Histogram::new(#bounds)),
        );
    }
    let n = buckets.bounds.len().max(1);
    let bounds: Vec<TokenStream> = if valid {
        buckets
            .bounds
            .iter()
            .map(|b| float_literal(b.value, b.expr.span()))
            .collect()
    } else {
        (1..=n)
            .map(|i| float_literal(f64::from(u32::try_from(i).unwrap_or(u32::MAX)), span))
            .collect()
    };
    (
        quote!(#p::Histogram<#n>),
        quote_spanned!(span=> #p::Histogram::new(&[#(#bounds),*])),
    )
}

/// `value` as an `f64` literal with the user's span.
pub(crate) fn float_literal(value: f64, span: Span) -> TokenStream {
    let mut literal = proc_macro2::Literal::f64_suffixed(value.abs());
    literal.set_span(span);
    if value.is_sign_negative() {
        quote_spanned!(span=> -#literal)
    } else {
        literal.into_token_stream()
    }
}

/// The value of a numeric literal, possibly negated; `None` for any other expression.
pub(crate) fn literal_value(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_value(expr).map(|v| -v),
        Expr::Group(group) => literal_value(&group.expr),
        _ => None,
    }
}

/// `tokens` located at `span`, each keeping its own hygiene (a `$crate` still resolves
/// where it was written).
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(group.span().located_at(span));
                token = inner.into();
            }
            token.set_span(token.span().located_at(span));
            token
        })
        .collect()
}
