//! The procedural macros of [promlink](https://docs.rs/promlink), re-exported there with
//! their documentation. Each is written parse -> validate -> expand: the input is read
//! into a typed model keeping the user's spans, every rule is checked with all errors
//! collected, and the output refers to promlink only through `::promlink::__private` (or
//! the path given with `crate = ..`).

mod buckets;
mod declare;
mod errors;
mod label_value;
mod names;

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
