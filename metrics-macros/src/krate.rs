//! Where promlink is, as the user's crate names it: `::promlink`, or the name it was
//! renamed to in `Cargo.toml` (`pl = { package = "promlink", .. }`), read from the
//! manifest with `proc-macro-crate`, so that a renamed dependency needs no `crate = ..`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The path of promlink for generated code, unless `crate = ..` gave one.
pub(crate) fn promlink(given: Option<&syn::Path>) -> TokenStream {
    if let Some(path) = given {
        return quote!(#path);
    }
    match proc_macro_crate::crate_name("promlink") {
        // `Itself` (promlink's own doctests) and `Name("promlink")` (its tests, examples,
        // benches, and every crate that does not rename it) are `::promlink` alike; the
        // library itself uses none of its macros.
        Ok(proc_macro_crate::FoundCrate::Name(name)) if name != "promlink" => {
            let name = syn::Ident::new(&name, Span::call_site());
            quote!(::#name)
        }
        // Not a direct dependency (a re-export, or a build without Cargo): the generated
        // code's paths say so, and `crate = ..` is the way out the docs give.
        _ => quote!(::promlink),
    }
}
