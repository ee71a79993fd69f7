//! Checked declarations turned into `static` metrics, registrations and typed label
//! lookups.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Ident, Lifetime, Type};

use super::parse::{Kind, Labels, MetricDecl};
use super::validate::Checked;
use crate::names::{labels_struct_name, wrapper_type_name};

/// Expands one declaration. `checked` is `None` after a validation error: the static is
/// still emitted, with placeholder names and no registration, so that code using it
/// compiles and the user sees only the error that matters.
pub(crate) fn metric(
    decl: &MetricDecl,
    checked: Option<&Checked>,
    krate: &TokenStream,
) -> TokenStream {
    let p = quote!(#krate::__private);
    let placeholder = Checked {
        name: if decl.kind == Kind::Counter {
            "invalid_total"
        } else {
            "invalid"
        }
        .to_owned(),
        help: String::new(),
        unit: None,
    };
    let valid = checked.is_some();
    let Checked { name, help, unit } = checked.unwrap_or(&placeholder);
    let non_negative = crate::buckets::never_negative(name, unit.as_deref());
    let (series_type, series_new) = series(decl, valid, non_negative, &p);
    let unit = unit.as_ref().map(|u| quote!(.with_unit(#u)));
    let const_labels = (valid && !decl.const_labels.is_empty()).then(|| {
        let (names, values): (Vec<String>, Vec<&syn::LitStr>) = decl
            .const_labels
            .iter()
            .filter_map(|(name, value)| {
                Some((name.to_string(), super::parse::string_literal(value)?))
            })
            .unzip();
        quote!(.with_const_labels(&[#((#names, #values)),*]))
    });
    let reference = valid.then(|| reference_doc(decl, name, unit.is_some()));
    let site = Site {
        p: &p,
        valid,
        reference,
        describe: &|family: TokenStream| quote!(#p::Metric::new(#name, #help, #family) #unit #const_labels),
    };
    match decl.labels.as_ref().filter(|l| !l.labels.is_empty()) {
        None => unlabelled(decl, &site, &series_type, &series_new),
        Some(labels) => labelled(decl, &site, labels, &series_type, &series_new),
    }
}

/// Doc lines added to the static's page, after the user's: the metric's name, type,
/// labels and unit, and a PromQL query that fits its type.
fn reference_doc(decl: &MetricDecl, name: &str, has_unit: bool) -> TokenStream {
    let labels: Vec<String> = decl
        .labels
        .iter()
        .flat_map(|l| &l.labels)
        .map(|l| l.ident.to_string().trim_start_matches("r#").to_owned())
        .collect();
    let constant: Vec<String> = decl
        .const_labels
        .iter()
        .filter_map(|(n, v)| {
            Some(format!(
                "{n}=\"{}\"",
                super::parse::string_literal(v)?.value()
            ))
        })
        .collect();
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut facts = format!("**Metric** `{name}`, {}", decl.kind.described());
    if !labels.is_empty() {
        let _ = write!(facts, ", labelled {}", quoted(&labels));
    }
    if !constant.is_empty() {
        let _ = write!(facts, ", with {}", quoted(&constant));
    }
    if let Some(unit) = has_unit.then(|| super::validate::unit(decl)).flatten() {
        let _ = write!(facts, ", in {unit}");
    }
    facts.push('.');
    let by = |extra: &[&str]| {
        let all: Vec<&str> = extra
            .iter()
            .copied()
            .chain(labels.iter().map(String::as_str))
            .collect();
        if all.is_empty() {
            String::new()
        } else {
            format!(" by ({})", all.join(", "))
        }
    };
    let query = match decl.kind {
        Kind::Counter => format!("sum{} (rate({name}[5m]))", by(&[])),
        Kind::Gauge => format!("sum{} ({name})", by(&[])),
        // A Prometheus that reads native histograms stores those alone.
        Kind::Histogram if decl.native.is_some() => format!(
            "histogram_quantile(0.95, sum{} (rate({name}[5m])))",
            by(&[])
        ),
        Kind::Histogram => format!(
            "histogram_quantile(0.95, sum{} (rate({name}_bucket[5m])))",
            by(&["le"])
        ),
        Kind::Summary if decl.quantiles.is_some() => format!("max{} ({name})", by(&["quantile"])),
        Kind::Summary => format!(
            "sum{0} (rate({name}_sum[5m])) / sum{0} (rate({name}_count[5m]))",
            by(&[])
        ),
        Kind::Info => format!("{name}_info"),
        Kind::StateSet => format!("{name} == 1"),
    };
    let lines = [
        String::new(),
        facts,
        String::new(),
        "```promql".to_owned(),
        query,
        "```".to_owned(),
    ];
    quote!(#(#[doc = #lines])*)
}

/// What both expansions share.
struct Site<'a> {
    /// `::promlink::__private`.
    p: &'a TokenStream,
    /// Whether the declaration passed validation (and so is registered).
    valid: bool,
    /// The doc lines naming the metric, for the static's page.
    reference: Option<TokenStream>,
    /// `Metric::new(name, help, <family>)` with the unit.
    describe: &'a dyn Fn(TokenStream) -> TokenStream,
}

fn unlabelled(
    decl: &MetricDecl,
    site: &Site<'_>,
    series_type: &TokenStream,
    series_new: &TokenStream,
) -> TokenStream {
    let MetricDecl {
        attrs, vis, ident, ..
    } = decl;
    let p = site.p;
    let init = (site.describe)(series_new.clone());
    let init = quote_spanned!(ident.span()=> #init);
    let registration = site.valid.then(|| registration(p, &quote!(#ident)));
    let reference = &site.reference;
    quote! {
        #(#attrs)*
        #reference
        #vis static #ident: #p::Metric<#series_type> = #init;
        #registration
    }
}

fn labelled(
    decl: &MetricDecl,
    site: &Site<'_>,
    labels: &Labels,
    series_type: &TokenStream,
    series_new: &TokenStream,
) -> TokenStream {
    let MetricDecl {
        attrs, vis, ident, ..
    } = decl;
    let (p, span) = (site.p, ident.span());
    let label_names = label_names(labels, site.valid);
    let idents = label_idents(labels, site.valid);
    let owned: Vec<Type> = labels.labels.iter().map(|l| any_lifetime(&l.ty)).collect();
    let types: Vec<&Type> = owned.iter().collect();
    let label_attrs = label_field_attrs(labels);
    // Too many labels, or a type that cannot be a label value, was reported: the lookups
    // keep the user's types but look placeholders up, so that no second error follows.
    let n = idents.len();
    let placeholders = !site.valid
        && (n > super::validate::MAX_LABELS
            || types
                .iter()
                .any(|t| super::validate::label_type_problem(t).is_some()));
    let dense = !placeholders && types.iter().all(|t| is_fixed_cardinality(t));
    let values = if placeholders {
        quote!({
            let _ = (#(#idents,)*);
            [""; #n]
        })
    } else {
        quote!((#(#idents,)*))
    };
    let (limited, limit_check) = max_series(decl, &types, dense, placeholders, p);
    let (metric_type, family_new, child_type) = if dense {
        // Spanned on the first label type: a type that is not fixed-cardinality is
        // reported there.
        let ty_span = types[0].span();
        let tuple = quote_spanned!(ty_span=> (#(#types,)*));
        let k = quote_spanned!(ty_span=> { <#tuple as #p::FixedLabelValues>::CARDINALITY });
        (
            quote!(#p::Metric<#p::DenseFamily<#series_type, #tuple, #k>>),
            quote_spanned!(ty_span=> #p::DenseFamily::new(&[#(#label_names),*], [const { #series_new }; #k])),
            quote!(&#series_type),
        )
    } else {
        (
            quote!(#p::Metric<#p::Family<#series_type, #n>>),
            quote!(#p::Family::new([#(#label_names),*], #series_new) #limited),
            quote!(#p::Child<#series_type>),
        )
    };
    let remove = (!dense).then(|| {
        quote! {
            /// Removes the child for these label values; returns whether there was one.
            pub fn remove(&self, #(#idents: #types),*) -> bool {
                self.0.remove(#values)
            }
        }
    });
    let wrapper = syn::Ident::new(&wrapper_type_name(&ident.to_string()), span);
    let labels_struct = syn::Ident::new(&labels_struct_name(&ident.to_string()), span);
    let (field_types, lifetime) = struct_field_types(&types);
    let generics = lifetime.as_ref().map(|lt| quote!(<#lt>));
    let anonymous = lifetime.as_ref().map(|_| quote!(<'_>));
    let init = (site.describe)(family_new);
    let init = quote_spanned!(span=> #wrapper(#init));
    let registration = site.valid.then(|| registration(p, &quote!(#ident.0)));
    let request_labels =
        (!dense).then(|| request_labels(labels, site.valid, &wrapper, &metric_type, p));
    let doc_type = format!("The metric [`{ident}`]: dereferences to its family, and looks children up by typed label values.");
    let doc_labels = format!("The label values of [`{ident}`], by name.");
    let reference = &site.reference;
    quote! {
        #(#attrs)*
        #reference
        #vis static #ident: #wrapper = #init;
        #registration
        #limit_check

        #[doc = #doc_type]
        #[derive(Debug)]
        #vis struct #wrapper(#metric_type);

        impl ::core::ops::Deref for #wrapper {
            type Target = #metric_type;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        #[allow(dead_code, clippy::too_many_arguments)]
        impl #wrapper {
            /// The child for these label values, in the order they are declared.
            #[inline]
            #[must_use]
            pub fn labels(&self, #(#idents: #types),*) -> #child_type {
                self.0.labels(#values)
            }

            /// The child for these label values, by name.
            #[inline]
            #[must_use]
            pub fn with(&self, labels: #labels_struct #anonymous) -> #child_type {
                self.labels(#(labels.#idents),*)
            }

            #remove
        }

        #request_labels

        #[doc = #doc_labels]
        #[allow(dead_code)]
        #vis struct #labels_struct #generics {
            #(#label_attrs pub #idents: #field_types,)*
        }
    }
}

/// `#[metric(max_series = N)]`: the call that sets the family's limit, and the check
/// that it leaves room for every combination of the fixed labels.
fn max_series(
    decl: &MetricDecl,
    types: &[&Type],
    dense: bool,
    placeholders: bool,
    p: &TokenStream,
) -> (Option<TokenStream>, Option<TokenStream>) {
    let Some(limit) = decl.max_series.first() else {
        return (None, None);
    };
    let call = quote_spanned!(limit.span()=> .with_max_series(#limit));
    let check = (!placeholders)
        .then(|| fixed_combinations_check(limit, types, dense, p))
        .flatten();
    (Some(call), check)
}

/// A compile error, on `limit`, when it is below the number of combinations of the fixed
/// (enum, bool) labels among `types`: each would be a label set the limit refuses.
fn fixed_combinations_check(
    limit: &syn::Expr,
    types: &[&Type],
    dense: bool,
    p: &TokenStream,
) -> Option<TokenStream> {
    let combinations = if dense {
        quote!(<(#(#types,)*) as #p::FixedLabelValues>::CARDINALITY)
    } else {
        let fixed: Vec<&&Type> = types.iter().filter(|t| is_fixed_cardinality(t)).collect();
        if fixed.is_empty() {
            return None;
        }
        quote!(1 #(* <#fixed as #p::FixedLabelValue>::VALUES.len())*)
    };
    Some(quote_spanned! {limit.span()=>
        const _: () = ::core::assert!(
            #limit >= #combinations,
            "`max_series` is below the number of combinations of this metric's fixed (enum, bool) labels"
        );
    })
}

/// The traits by which the request metrics layer takes the metric, when its labels are
/// among those the layer fills and of types that take what it gives: text for `method`
/// and `endpoint`, text or an integer for `status` (and a `Family`: enums are refused).
fn request_labels(
    labels: &Labels,
    valid: bool,
    wrapper: &Ident,
    metric_type: &TokenStream,
    p: &TokenStream,
) -> Option<TokenStream> {
    const TEXT: [&str; 5] = ["str", "String", "Cow", "Box", "Arc"];
    const TEXT_OR_INTEGER: [&str; 13] = [
        "str", "String", "Cow", "Box", "Arc", "u16", "u32", "u64", "usize", "i16", "i32", "i64",
        "isize",
    ];
    let takes = |label: &super::parse::LabelDecl, allowed: &[&str]| {
        let name = label.ident.to_string();
        let kinds: &[&str] = match name.as_str() {
            "method" | "endpoint" => &TEXT,
            "status" => &TEXT_OR_INTEGER,
            _ => return false,
        };
        allowed.contains(&name.as_str())
            && type_named(&label.ty).is_some_and(|t| kinds.contains(&t.as_str()))
    };
    let among = |allowed: &[&str]| valid && labels.labels.iter().all(|l| takes(l, allowed));
    if !among(&["method", "endpoint", "status"]) {
        return None;
    }
    let in_flight =
        among(&["method", "endpoint"]).then(|| quote!(impl #p::InFlightLabels for #wrapper {}));
    Some(quote! {
        impl #p::RequestLabels for #wrapper {
            type Family = #metric_type;

            fn family(&self) -> &Self::Family {
                &self.0
            }
        }
        #in_flight
    })
}

/// The last name of a type's path, through references: `str` for `&'a str`.
fn type_named(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(reference) => type_named(&reference.elem),
        Type::Paren(paren) => type_named(&paren.elem),
        Type::Group(group) => type_named(&group.elem),
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// A label declared `&'static str` takes any `&str`: values are copied into the family,
/// so requiring `'static` would only refuse a request's borrowed path.
fn any_lifetime(ty: &Type) -> Type {
    let mut ty = ty.clone();
    if let Type::Reference(reference) = &mut ty {
        if reference
            .lifetime
            .as_ref()
            .is_some_and(|l| l.ident == "static")
        {
            reference.lifetime = None;
        }
    }
    ty
}

/// The label names as the family is made with: placeholders after a validation error.
fn label_names(labels: &Labels, valid: bool) -> Vec<String> {
    labels
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if valid {
                l.ident.to_string().trim_start_matches("r#").to_owned()
            } else {
                format!("l{i}")
            }
        })
        .collect()
}

/// The attributes of each field of the labels struct: the user's, with a doc comment
/// naming the label when they bring none.
fn label_field_attrs(labels: &Labels) -> Vec<TokenStream> {
    labels
        .labels
        .iter()
        .map(|l| {
            let attrs = &l.attrs;
            if attrs.iter().any(|a| a.path().is_ident("doc")) {
                quote!(#(#attrs)*)
            } else {
                let doc = format!(
                    "The value of the label `{}`.",
                    l.ident.to_string().trim_start_matches("r#")
                );
                quote!(#(#attrs)* #[doc = #doc])
            }
        })
        .collect()
}

/// The labels' identifiers, as parameters and fields. After a validation error they are
/// made unique, so that a repeated label causes no second error.
fn label_idents(labels: &Labels, valid: bool) -> Vec<Ident> {
    labels
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let repeated = labels.labels[..i].iter().any(|l| l.ident == label.ident);
            if valid || !repeated {
                label.ident.clone()
            } else {
                format_ident!("{}_{}", label.ident, i, span = label.ident.span())
            }
        })
        .collect()
}

/// The series type and its `const` constructor.
fn series(
    decl: &MetricDecl,
    valid: bool,
    non_negative: bool,
    p: &TokenStream,
) -> (TokenStream, TokenStream) {
    let span = decl.kind_span;
    match decl.kind {
        Kind::Counter if super::validate::sharded(decl) => (
            quote!(#p::ShardedCounter),
            quote_spanned!(span=> #p::ShardedCounter::new()),
        ),
        Kind::Counter => (
            quote!(#p::Counter),
            quote_spanned!(span=> #p::Counter::new()),
        ),
        Kind::Gauge => (quote!(#p::Gauge), quote_spanned!(span=> #p::Gauge::new())),
        Kind::Summary => {
            let summary = quote_spanned!(span=> #p::Summary::new());
            let summary = match &decl.quantiles {
                Some(quantiles) => quantiles.expand(summary, valid),
                None => summary,
            };
            (quote!(#p::Summary), summary)
        }
        Kind::Info => (quote!(#p::Info), quote_spanned!(span=> #p::Info::new(&[]))),
        Kind::StateSet => {
            let states: Vec<String> = match &decl.states {
                Some(s) if valid => s.states.iter().map(syn::LitStr::value).collect(),
                Some(s) => (0..s.states.len().clamp(1, 64))
                    .map(|i| format!("s{i}"))
                    .collect(),
                None => vec!["s0".to_owned()],
            };
            (
                quote!(#p::StateSet),
                quote_spanned!(span=> #p::StateSet::new(&[#(#states),*])),
            )
        }
        Kind::Histogram => crate::buckets::histogram(
            p,
            decl.buckets.as_ref(),
            decl.native.as_ref(),
            valid,
            non_negative,
            span,
        ),
    }
}

/// The element of the link-time slice for `metric` (an expression of a `static`).
fn registration(p: &TokenStream, metric: &TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            #[#p::linkme::distributed_slice(#p::PROMLINK_METRICS_V0_1)]
            #[linkme(crate = #p::linkme)]
            static __PROMLINK_REGISTRATION: #p::Registration = #p::Registration::new(&#metric, ::core::module_path!());
        };
    }
}

/// Whether a label type has a fixed set of values, decided by its spelling: `bool` and
/// any type that is not a string, a number or a reference (an enum deriving
/// `LabelValue`). The compiler confirms it: such a type must implement
/// `FixedLabelValue`, whose diagnostic explains what to do otherwise.
fn is_fixed_cardinality(ty: &Type) -> bool {
    const DYNAMIC: [&str; 20] = [
        "str",
        "String",
        "Cow",
        "Box",
        "Arc",
        "Rc",
        "char",
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "usize",
        "i8",
        "i16",
        "i32",
        "i64",
        "i128",
        "isize",
        "SharedString",
    ];
    match ty {
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| !DYNAMIC.contains(&s.ident.to_string().as_str()))
        }
        Type::Group(group) => is_fixed_cardinality(&group.elem),
        Type::Paren(paren) => is_fixed_cardinality(&paren.elem),
        _ => false,
    }
}

/// The label types as struct fields: elided lifetimes (`&str`) become `'a`, returned when
/// one was needed.
fn struct_field_types(types: &[&Type]) -> (Vec<Type>, Option<Lifetime>) {
    struct Elided {
        lifetime: Lifetime,
        used: bool,
    }
    impl VisitMut for Elided {
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            if reference.lifetime.as_ref().is_none_or(|l| l.ident == "_") {
                reference.lifetime = Some(self.lifetime.clone());
                self.used = true;
            }
            syn::visit_mut::visit_type_reference_mut(self, reference);
        }

        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident == "_" {
                *lifetime = self.lifetime.clone();
                self.used = true;
            }
        }
    }
    let mut elided = Elided {
        lifetime: Lifetime::new("'a", Span::call_site()),
        used: false,
    };
    let fields = types
        .iter()
        .map(|ty| {
            let mut ty = (*ty).clone();
            elided.visit_type_mut(&mut ty);
            ty
        })
        .collect();
    (fields, elided.used.then_some(elided.lifetime))
}
