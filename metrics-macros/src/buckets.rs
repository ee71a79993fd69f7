//! Histogram buckets as both macros take them: number literals, checked at compile time,
//! expanded into `Histogram<N>` with the user's spans.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, ExprLit, Lit, Token};

use crate::errors::Errors;

/// `buckets [..]` (or `buckets = [..]`): where the keyword was and the bounds.
pub(crate) struct Buckets {
    pub(crate) keyword: Span,
    pub(crate) bounds: Vec<Bound>,
}

/// One bucket bound: its value and the user's tokens.
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) expr: Expr,
}

impl Buckets {
    /// Parses `[bound, ..]` after the keyword.
    pub(crate) fn parse(keyword: Span, input: ParseStream<'_>) -> syn::Result<Buckets> {
        let content;
        bracketed!(content in input);
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        let bounds = exprs
            .into_iter()
            .map(|expr| {
                Ok(Bound {
                    value: literal_value(&expr)?,
                    expr,
                })
            })
            .collect::<syn::Result<_>>()?;
        Ok(Buckets { keyword, bounds })
    }

    /// Checks the bounds: at least one, finite, strictly increasing, and not negative for
    /// a measure that cannot be (`non_negative`: durations, sizes).
    pub(crate) fn check(&self, non_negative: bool, errors: &mut Errors) {
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

/// The histogram type and its `const` constructor: the user's buckets, Python's defaults
/// without any, or (after a validation error) as many placeholder bounds, so that the
/// type stays the one the user's code expects.
pub(crate) fn histogram(
    p: &TokenStream,
    buckets: Option<&Buckets>,
    valid: bool,
    span: Span,
) -> (TokenStream, TokenStream) {
    let Some(buckets) = buckets else {
        return (
            quote!(#p::Histogram<14>),
            quote_spanned!(span=> #p::Histogram::new(&#p::DEFAULT_BUCKETS)),
        );
    };
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
fn float_literal(value: f64, span: Span) -> TokenStream {
    let mut literal = proc_macro2::Literal::f64_suffixed(value.abs());
    literal.set_span(span);
    if value.is_sign_negative() {
        quote_spanned!(span=> -#literal)
    } else {
        literal.into_token_stream()
    }
}

/// The value of a numeric literal, possibly negated.
fn literal_value(expr: &Expr) -> syn::Result<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_value(expr).map(|v| -v),
        Expr::Group(group) => literal_value(&group.expr),
        _ => Err(syn::Error::new(
            expr.span(),
            "bucket bounds must be number literals, so that they can be checked at compile time",
        )),
    }
}
