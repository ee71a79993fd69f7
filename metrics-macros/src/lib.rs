//! The procedural macros of [promlink](https://docs.rs/promlink), re-exported there with
//! their documentation. Each is written parse -> validate -> expand: the input is read
//! into a typed model keeping the user's spans, every rule is checked with all errors
//! collected, and the output refers to promlink only through `::promlink::__private` (or
//! the path given with `crate = ..`).

mod buckets;
mod declare;
mod errors;
mod instrument;
mod krate;
mod label_value;
mod names;
mod native;
mod quantiles;

use proc_macro::TokenStream;

/// Declares `static` metrics; documented in `promlink`.
#[proc_macro]
pub fn declare_metrics(input: TokenStream) -> TokenStream {
    declare::declare_metrics(input.into()).into()
}

/// Derives `LabelValue` and `FixedLabelValue` for an enum; documented in `promlink`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label_value::derive(input.into()).into()
}

/// Counts the calls of a function by outcome; documented in `promlink`.
#[proc_macro_attribute]
pub fn counted(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument::instrument(instrument::Attr::Counted, args.into(), &item.into()).into()
}

/// Observes the duration of a function's calls; documented in `promlink`.
#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument::instrument(instrument::Attr::Timed, args.into(), &item.into()).into()
}

/// Tracks a function's calls in progress; documented in `promlink`.
#[proc_macro_attribute]
pub fn in_progress(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument::instrument(instrument::Attr::InProgress, args.into(), &item.into()).into()
}
