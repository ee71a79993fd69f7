//! `declare_metrics!`: parse into a typed model, validate collecting every error,
//! expand. After an error the statics are still emitted (with placeholders, unregistered),
//! so code that uses them compiles and only the real error is shown.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn declare_metrics(input: TokenStream) -> TokenStream {
    let input: parse::Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let krate = crate::krate::promlink(input.krate.as_ref());
    let mut errors = crate::errors::Errors::default();
    let mut output = TokenStream::new();
    for decl in &input.metrics {
        let checked = validate::check(decl, &mut errors);
        output.extend(expand::metric(decl, checked.as_ref(), &krate));
    }
    if let Err(error) = errors.into_result() {
        output.extend(error.to_compile_error());
    }
    output
}
