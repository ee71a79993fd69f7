//! `quantiles [0.5, 0.9, 0.99]` of a declared summary: number literals checked by the
//! macro, expanded into `Summary::with_quantiles` with the user's spans.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, Token};

use crate::buckets::{float_literal, literal_value};
use crate::errors::Errors;

/// The keyword's span and each quantile's tokens, with its value when it is a literal.
pub(crate) struct Quantiles {
    pub(crate) keyword: Span,
    values: Vec<(Expr, Option<f64>)>,
}

impl Quantiles {
    /// Parses `[q, ..]` after the keyword.
    pub(crate) fn parse(keyword: Span, input: ParseStream<'_>) -> syn::Result<Quantiles> {
        let content;
        bracketed!(content in input);
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        let values = exprs
            .into_iter()
            .map(|expr| {
                let value = literal_value(&expr);
                (expr, value)
            })
            .collect();
        Ok(Quantiles { keyword, values })
    }

    /// Checks every quantile: a number literal from 0 to 1, each above the one before.
    pub(crate) fn check(&self, errors: &mut Errors) {
        if self.values.is_empty() {
            errors.push(
                self.keyword,
                "a summary's quantiles are at least one, as `quantiles [0.5, 0.9, 0.99]`; \
                 without quantiles, leave out the keyword",
            );
        }
        let mut previous: Option<f64> = None;
        for (expr, value) in &self.values {
            let Some(value) = *value else {
                errors.push(
                    expr.span(),
                    "quantiles are number literals, so that they can be checked at compile time",
                );
                continue;
            };
            if !(0.0..=1.0).contains(&value) {
                errors.push(
                    expr.span(),
                    format_args!(
                        "a quantile is from 0 to 1: {value:?} is not (the 99th percentile is 0.99)"
                    ),
                );
            } else if let Some(before) = previous.filter(|&before| value <= before) {
                errors.push(
                    expr.span(),
                    format_args!("quantiles must increase: {value:?} comes after {before:?}"),
                );
            }
            previous = Some(value);
        }
    }

    /// `summary.with_quantiles(&[..])`, or `summary` alone after an error was reported.
    pub(crate) fn expand(&self, summary: TokenStream, valid: bool) -> TokenStream {
        if !valid {
            return summary;
        }
        let values = self
            .values
            .iter()
            .map(|(expr, value)| float_literal(value.unwrap_or_default(), expr.span()));
        let span = self.keyword;
        quote_spanned!(span=> #summary.with_quantiles(&[#(#values),*]))
    }
}
