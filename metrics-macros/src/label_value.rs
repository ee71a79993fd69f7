//! `#[derive(LabelValue)]` for enums of unit variants: a label type with a fixed set of
//! values, so families keep its children in a dense array.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Meta, Path, Token};

use crate::errors::Errors;
use crate::names::snake_case;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match expand(&input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

/// `#[label(rename = "..")]` on a variant, `#[label(crate = path)]` on the enum.
fn options(attrs: &[syn::Attribute], allowed: &str) -> syn::Result<(Option<LitStr>, Option<Path>)> {
    let (mut rename, mut krate) = (None, None);
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        for meta in attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)? {
            let Meta::NameValue(nv) = &meta else {
                return Err(syn::Error::new(
                    meta.span(),
                    format!("expected `{allowed} = ..`"),
                ));
            };
            match (
                nv.path.get_ident().map(ToString::to_string).as_deref(),
                &nv.value,
                allowed,
            ) {
                (
                    Some("rename"),
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }),
                    "rename",
                ) if rename.is_none() => rename = Some(s.clone()),
                (Some("crate"), Expr::Path(path), "crate") if krate.is_none() => {
                    krate = Some(path.path.clone());
                }
                _ => {
                    return Err(syn::Error::new(
                        nv.path.span(),
                        format!("expected `{allowed} = ..`, once"),
                    ))
                }
            }
        }
    }
    Ok((rename, krate))
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(input.ident.span(), "`LabelValue` derives for enums of unit variants; implement `LabelValue` by hand for other types"));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "an enum without variants has no label values",
        ));
    }
    let (_, krate) = options(&input.attrs, "crate")?;
    let krate = crate::krate::promlink(krate.as_ref());
    let p = quote!(#krate::__private);
    let mut errors = Errors::default();
    let mut texts = Vec::new();
    let mut variants = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(
                variant.fields.span(),
                "label values are unit variants: a variant with fields has no fixed text",
            );
            continue;
        }
        let (rename, _) = options(&variant.attrs, "rename")?;
        let text = rename
            .as_ref()
            .map_or_else(|| snake_case(&variant.ident.to_string()), LitStr::value);
        if text.is_empty() {
            errors.push(
                rename.as_ref().map_or(variant.ident.span(), LitStr::span),
                "an empty label value is the same as no label at all to Prometheus, so \
                 queries cannot tell it apart: name it, as in `rename = \"unknown\"`",
            );
        }
        if texts.contains(&text) {
            errors.push(
                rename.map_or(variant.ident.span(), |r| r.span()),
                format!("the label value {text:?} is used twice"),
            );
        }
        texts.push(text);
        variants.push(&variant.ident);
    }
    // After an error the impls are still emitted (a variant with fields matched by `_`),
    // so that metrics using the enum report nothing more.
    let errors = errors.into_result().err().map(|e| e.to_compile_error());
    let rest = (variants.len() < data.variants.len()).then(|| quote!(_ => 0,));
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let indices = 0..variants.len();
    Ok(quote! {
        #errors

        #[automatically_derived]
        impl #impl_generics #p::LabelValue for #ident #type_generics #where_clause {
            #[inline]
            fn label_text(&self) -> #p::LabelText<'_> {
                #p::LabelText::from(<Self as #p::FixedLabelValue>::VALUES[#p::FixedLabelValue::index(self)])
            }
        }

        #[automatically_derived]
        impl #impl_generics #p::FixedLabelValue for #ident #type_generics #where_clause {
            const VALUES: &'static [&'static str] = &[#(#texts),*];

            #[inline]
            fn index(&self) -> usize {
                match self {
                    #(Self::#variants => #indices,)*
                    #rest
                }
            }
        }
    })
}
