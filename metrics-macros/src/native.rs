//! Native histogram settings as both macros take them: `native`, or
//! `native(schema = 3, zero_threshold = 1e-9, max_buckets = 160)` (or `factor = 1.1`
//! instead of `schema`), checked by the macro and expanded into a `NativeBuckets`.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{parenthesized, Expr, Ident, Token};

use crate::buckets::literal_value;
use crate::errors::Errors;

/// The schema a bare `native` gets: neighbouring bounds 9% apart, as Go's suggested
/// bucket factor of 1.1 gives.
const DEFAULT_SCHEMA: i8 = 3;

/// `native` and its settings, with the user's tokens.
pub(crate) struct Native {
    pub(crate) keyword: Span,
    settings: Vec<Setting>,
}

/// `key = value`, the value a number literal.
struct Setting {
    key: Ident,
    value: Expr,
}

/// What each key takes, for the message about an unknown one.
const KEYS: &str = "`schema` (-4 to 8), `factor` (above 1), `zero_threshold` or `max_buckets`";

impl Native {
    /// Parses the optional `(key = value, ..)` after the keyword.
    pub(crate) fn parse(keyword: Span, input: ParseStream<'_>) -> syn::Result<Native> {
        let mut settings = Vec::new();
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            let pairs = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated(&content)
                .map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        format!("native histogram settings are `key = number`: {KEYS}"),
                    )
                })?;
            for pair in pairs {
                let key = pair.path.get_ident().cloned().ok_or_else(|| {
                    syn::Error::new_spanned(&pair.path, format!("expected {KEYS}"))
                })?;
                settings.push(Setting {
                    key,
                    value: pair.value,
                });
            }
        }
        Ok(Native { keyword, settings })
    }

    /// Checks every setting: known, given once, a number in its range, and not both
    /// `schema` and `factor`.
    pub(crate) fn check(&self, errors: &mut Errors) {
        let mut seen: Vec<String> = Vec::new();
        for Setting { key, value } in &self.settings {
            let name = key.to_string();
            if seen.contains(&name) {
                errors.push(key.span(), format_args!("`{name}` is given more than once"));
                continue;
            }
            seen.push(name.clone());
            let Some(number) = literal_value(value) else {
                errors.push(
                    value.span(),
                    format_args!("`{name}` is a number literal, checked at compile time"),
                );
                continue;
            };
            let problem = match name.as_str() {
                "schema" if !is_integer(number) || !(-4.0..=8.0).contains(&number) => {
                    Some("a schema is a whole number from -4 to 8, the schemas Prometheus reads")
                }
                "factor" if !(number > 1.0 && number.is_finite()) => Some(
                    "a bucket factor is the most neighbouring bounds may differ by, above 1, as 1.1",
                ),
                "zero_threshold" if !(number >= 0.0 && number.is_finite()) => {
                    Some("a zero threshold is finite and not negative")
                }
                "max_buckets" if !is_integer(number) || !(1.0..=1e6).contains(&number) => {
                    Some("`max_buckets` is a whole number of buckets, at least 1")
                }
                "schema" | "factor" | "zero_threshold" | "max_buckets" => None,
                _ => {
                    errors.push(
                        key.span(),
                        format_args!("unknown native histogram setting `{name}`: expected {KEYS}"),
                    );
                    continue;
                }
            };
            if let Some(problem) = problem {
                errors.push(value.span(), problem);
            }
        }
        if seen.iter().any(|k| k == "schema") && seen.iter().any(|k| k == "factor") {
            let factor = self.settings.iter().find(|s| s.key == "factor");
            errors.push(
                factor.map_or(self.keyword, |s| s.key.span()),
                "give `schema` or `factor`, not both: a factor picks the schema",
            );
        }
    }

    /// `NativeBuckets` with these settings (the defaults for any not given, and for all of
    /// them when `valid` is false, after an error was reported).
    pub(crate) fn expand(&self, p: &TokenStream, valid: bool) -> TokenStream {
        let span = self.keyword;
        let setting = |key: &str| {
            self.settings
                .iter()
                .find(|s| s.key == key)
                .filter(|_| valid)
                .and_then(|s| Some((literal_value(&s.value)?, s.value.span())))
        };
        let mut spec = match (setting("factor"), setting("schema")) {
            (Some((factor, span)), _) => {
                let factor = float(factor, span);
                quote_spanned!(span=> #p::NativeBuckets::factor(#factor))
            }
            (None, Some((schema, span))) => {
                #[allow(clippy::cast_possible_truncation)] // checked: -4 to 8
                let schema = proc_macro2::Literal::i8_unsuffixed(schema as i8);
                quote_spanned!(span=> #p::NativeBuckets::schema(#schema))
            }
            (None, None) => quote_spanned!(span=> #p::NativeBuckets::schema(#DEFAULT_SCHEMA)),
        };
        if let Some((threshold, span)) = setting("zero_threshold") {
            let threshold = float(threshold, span);
            spec = quote_spanned!(span=> #spec.zero_threshold(#threshold));
        }
        if let Some((max, span)) = setting("max_buckets") {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked: 1 to 1e6
            let max = proc_macro2::Literal::u32_unsuffixed(max as u32);
            spec = quote_spanned!(span=> #spec.max_buckets(#max));
        }
        spec
    }
}

fn is_integer(value: f64) -> bool {
    value.fract() == 0.0
}

/// `value` (not negative) as an `f64` literal at `span`.
fn float(value: f64, span: Span) -> proc_macro2::Literal {
    let mut literal = proc_macro2::Literal::f64_suffixed(value);
    literal.set_span(span);
    literal
}
