//! `#[counted]`, `#[timed]` and `#[in_progress]` on functions and impl blocks.
//!
//! The body stays the user's own block, with its tokens and spans; guards declared before
//! it record the call when they drop, so an early `return`, `?`, a panic or a future
//! dropped before completion are all recorded, and no closure wraps the body (closures
//! break functions returning references to their arguments, and `impl Trait` returns).
//! Only `#[counted]` needs the returned value (for `result="ok"|"error"`): a sync body
//! becomes a labelled block whose `return`s become `break`s; an async body becomes an
//! inner `async move` block awaited in place, so that `?` and `return` end it while the
//! outer guard tells a finished call from a cancelled one.

mod args;
mod body;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Attribute, Block, Expr, ExprLit, ImplItem, Item, ItemImpl, Lit, Meta, Signature, Type};

use args::Args;
pub(crate) use args::Attr;

use crate::errors::Errors;
use crate::names::labels_struct_name;

const CALLS_HELP: &str = "Calls of instrumented functions, by function, module and result.";
const DURATION_HELP: &str = "Duration of calls of instrumented functions, in seconds.";
const IN_PROGRESS_HELP: &str = "Calls of instrumented functions in progress.";

/// The attribute's entry point: a function or an impl block. After an error the item is
/// emitted unchanged beside it, so that the error is the only one.
pub(crate) fn instrument(attr: Attr, args: TokenStream, item: &TokenStream) -> TokenStream {
    let args = match syn::parse2::<Args>(args).and_then(|args| args.check(attr).map(|()| args)) {
        Ok(args) => args,
        Err(error) => return with_error(item, &error),
    };
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(mut function)) => {
            if let Some(error) = repeated(attr, &args, &function.attrs) {
                return with_error(item, &error);
            }
            // A method's own attribute cannot see its type: `function = "Type::method"`
            // names it (the impl block's attribute passes it).
            let name = args
                .function
                .as_ref()
                .map_or_else(|| function.sig.ident.to_string(), syn::LitStr::value);
            match instrument_body(
                attr,
                &args,
                &name,
                &function.sig,
                &function.attrs,
                &mut function.block,
            ) {
                Ok(()) => quote!(#function),
                Err(error) => with_error(item, &error),
            }
        }
        Ok(Item::Impl(block)) => instrument_impl(attr, &args, block),
        _ => {
            let message = format!(
                "`#[{}]` goes on a function with a body, or on an impl block",
                attr.name()
            );
            with_error(item, &syn::Error::new(Span::call_site(), message))
        }
    }
}

/// The same attribute again below this one, feeding the same shared family: every call
/// would be recorded twice (and, for `#[counted]`, the registry would refuse the second).
/// Two attributes with targets feed two metrics, which is allowed.
fn repeated(attr: Attr, args: &Args, attrs: &[Attribute]) -> Option<syn::Error> {
    if args.target.is_some() {
        return None;
    }
    // Same metric: the same `name` (or none), no target.
    let name = args.name.as_ref().map(syn::LitStr::value);
    let again = attrs.iter().find(|other| {
        our_attr(other) == Some(attr)
            && match &other.meta {
                Meta::Path(_) => name.is_none(),
                Meta::List(list) => syn::parse2::<Args>(list.tokens.clone()).is_ok_and(|a| {
                    a.target.is_none() && a.name.as_ref().map(syn::LitStr::value) == name
                }),
                Meta::NameValue(_) => false,
            }
    })?;
    Some(syn::Error::new_spanned(
        again,
        format!(
            "`#[{0}]` is given twice on this function: every call would be recorded twice; \
             keep one (to feed a metric of yours as well, name it: `#[{0}(MY_METRIC)]`)",
            attr.name()
        ),
    ))
}

fn with_error(item: &TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// Instruments every method of an impl block, labelled `Type::method`, but those marked
/// `#[attr(skip)]` and those with their own `#[attr(..)]`. Every attribute of ours on a
/// method (any of the three) that names no function and no target is given
/// `function = "Type::method"`, so a method is labelled the same by each attribute, however
/// it is attached.
fn instrument_impl(attr: Attr, args: &Args, mut block: ItemImpl) -> TokenStream {
    if let Some(function) = &args.function {
        let message = format!(
            "`function` names one function; on an impl block `#[{}]` labels each method `Type::method`",
            attr.name()
        );
        let block = quote!(#block);
        return with_error(&block, &syn::Error::new(function.span(), message));
    }
    let type_name = type_name(&block.self_ty);
    let mut errors = Errors::default();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let name = format!("{type_name}::{}", method.sig.ident);
        let mut own = None;
        for (index, method_attr) in method.attrs.iter_mut().enumerate() {
            let Some(which) = our_attr(method_attr) else {
                continue;
            };
            let own_args = match &method_attr.meta {
                Meta::Path(_) => Ok(Args::default()),
                Meta::List(list) => syn::parse2::<Args>(list.tokens.clone()),
                Meta::NameValue(_) => continue,
            };
            if which == attr {
                // A `skip` with other arguments stays, to report that when it expands.
                let skip = own_args.as_ref().is_ok_and(Args::skip_alone);
                own = Some((index, skip));
            }
            // An attribute that does not parse reports its own error when it expands.
            if let Ok(own_args) = own_args {
                if own_args.target.is_none()
                    && own_args.function.is_none()
                    && own_args.skip.is_none()
                {
                    name_function(method_attr, &name);
                }
            }
        }
        if let Some((index, skip)) = own {
            if skip {
                method.attrs.remove(index);
            }
            continue;
        }
        if let Err(error) = instrument_body(
            attr,
            args,
            &name,
            &method.sig,
            &method.attrs,
            &mut method.block,
        ) {
            errors.push_error(error);
        }
    }
    let errors = errors.into_result().err().map(|e| e.to_compile_error());
    quote!(#block #errors)
}

/// Which of our attributes `attr` is, by the last segment of its path.
fn our_attr(attr: &Attribute) -> Option<Attr> {
    let last = attr.path().segments.last()?;
    [Attr::Counted, Attr::Timed, Attr::InProgress]
        .into_iter()
        .find(|a| last.ident == a.name())
}

/// Adds `function = "name"` to the arguments of `attr`.
fn name_function(attr: &mut Attribute, name: &str) {
    let path = attr.path().clone();
    let rest = match &attr.meta {
        Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    // Last, so that a target metric (which takes no `function`) would still come first.
    let ends_in_comma = rest
        .clone()
        .into_iter()
        .last()
        .is_none_or(|t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ','));
    let separator = (!ends_in_comma).then(|| quote!(,));
    attr.meta = syn::parse_quote!(#path(#rest #separator function = #name));
}

/// `Foo` for `Foo<T>`, `crate::Foo` or `&Foo`.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string()),
        Type::Reference(reference) => type_name(&reference.elem),
        other => quote!(#other).to_string().replace(' ', ""),
    }
}

/// Rewrites `block` in place.
fn instrument_body(
    attr: Attr,
    args: &Args,
    function: &str,
    sig: &Signature,
    attrs: &[Attribute],
    block: &mut Block,
) -> syn::Result<()> {
    if let Some(constness) = sig.constness {
        return Err(syn::Error::new(
            constness.span,
            format!("`#[{}]` cannot instrument a `const fn`: a call at compile time has nothing to record", attr.name()),
        ));
    }
    let krate = crate::krate::promlink(args.krate.as_ref());
    let p = quote!(#krate::__private);
    let site = sig.ident.span();
    let metric = quote_spanned!(Span::mixed_site()=> __PROMLINK_METRIC);
    // A function returning `!` has no value to read: its guard sees only panics.
    let returns_never =
        matches!(&sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)));
    let needs_value = attr == Attr::Counted && args.target.is_none() && !returns_never;
    let async_trait = body::async_trait_block(block).is_some();
    // A plain `fn` returning a future: the future is instrumented, as an `async fn` is.
    let future = sig
        .asyncness
        .is_none()
        .then(|| body::returned_future(&sig.output))
        .flatten()
        .filter(|_| !async_trait);
    let return_type = if async_trait || future.is_some() {
        None
    } else {
        body::nameable_return_type(&sig.output)
    };
    // How a call guard reads a call that left without a value.
    let call_guard = if sig.asyncness.is_some() || async_trait || future.is_some() {
        quote!(new_async(&#metric))
    } else {
        // A type holding `impl Trait` cannot be named: its spelling decides.
        let returns_result = return_type.as_ref().map_or_else(
            || {
                let spelled = body::spelled_result(&sig.output);
                quote!(#spelled)
            },
            |ty| {
                quote!({
                    use #p::{ReturnsOther as _, ReturnsResult as _};
                    (&#p::ReturnKind::<#ty>::new()).returns_result()
                })
            },
        );
        quote!(new(&#metric, #returns_result))
    };
    if let Some((_, labels)) = &args.labels {
        body::check_label_values(labels.iter().map(|l| &l.value), sig)?;
    }
    let (lookup, guards) = setup(attr, args, &p, function, attrs, site, &call_guard)?;
    if let Some(shape) = future {
        // The lookup before the body, which may move the arguments it reads.
        *block = returned_future(&p, &lookup, &guards, block, needs_value, shape);
        return Ok(());
    }
    let setup = quote!(#lookup #guards);
    if let Some(inner) = body::async_trait_block(block) {
        // `#[async_trait]` ran first: the method returns `Box::pin(async move { body })`.
        inner.block = if needs_value {
            async_value(&p, &setup, &inner.block, None)
        } else {
            guarded(&setup, &inner.block)
        };
        return Ok(());
    }
    *block = match (needs_value, sig.asyncness.is_some()) {
        (true, true) => async_value(&p, &setup, block, return_type.as_ref()),
        (true, false) => sync_value(&p, &setup, block, return_type.as_ref()),
        (false, _) => guarded(&setup, block),
    };
    Ok(())
}

/// As statements: the lookup of a target's series (empty without a target), then the
/// statics (without a target) and the guards.
fn setup(
    attr: Attr,
    args: &Args,
    p: &TokenStream,
    function: &str,
    attrs: &[Attribute],
    site: Span,
    call_guard: &TokenStream,
) -> syn::Result<(TokenStream, TokenStream)> {
    if let Some(target) = &args.target {
        return Ok(target_setup(attr, p, target, args.labels.as_ref()));
    }
    let (default_name, default_help) = match attr {
        Attr::Counted => ("function_calls_total", CALLS_HELP),
        Attr::Timed => ("function_duration_seconds", DURATION_HELP),
        Attr::InProgress => ("function_calls_in_progress", IN_PROGRESS_HELP),
    };
    let name = args
        .name
        .as_ref()
        .map_or_else(|| default_name.to_owned(), syn::LitStr::value);
    let help = match (&args.help, &args.name) {
        (Some(help), _) => help.value(),
        (None, None) => default_help.to_owned(),
        (None, Some(name)) => doc_comment(attrs).ok_or_else(|| {
            syn::Error::new(
                name.span(),
                "a metric of its own needs help: a doc comment on the function, or `help = \"..\"`",
            )
        })?,
    };
    let const_labels = quote!(&[("function", #function), ("module", ::core::module_path!())]);
    let metric = quote_spanned!(Span::mixed_site()=> __PROMLINK_METRIC);
    let guard = quote_spanned!(Span::mixed_site()=> __promlink_guard);
    let (metric_type, metric_new, guard_new) = match attr {
        Attr::Counted => (
            quote!(#p::CallCounts),
            quote_spanned!(site=> #p::Metric::new(#name, #help, #p::DenseFamily::new(&["result"], [const { #p::Counter::new() }; 4]))),
            quote!(#p::CallGuard::#call_guard),
        ),
        Attr::Timed => {
            let (histogram_type, histogram_new) = crate::buckets::histogram(
                p,
                args.buckets.as_ref(),
                args.native.as_ref(),
                true,
                true,
                site,
            );
            (
                quote!(#p::Metric<#histogram_type>),
                quote_spanned!(site=> #p::Metric::new(#name, #help, #histogram_new).with_unit("seconds")),
                quote!(#p::DurationGuard::new(&*#metric)),
            )
        }
        Attr::InProgress => (
            quote!(#p::Metric<#p::Gauge>),
            quote_spanned!(site=> #p::Metric::new(#name, #help, #p::Gauge::new())),
            quote!(#p::InProgressGuard::new(&*#metric)),
        ),
    };
    Ok((
        TokenStream::new(),
        quote! {
            static #metric: #metric_type = #metric_new.with_const_labels(#const_labels);
            const _: () = {
                #[#p::linkme::distributed_slice(#p::PROMLINK_METRICS_V0_1)]
                #[linkme(crate = #p::linkme)]
                static REGISTRATION: #p::Registration = #p::Registration::new(&#metric, ::core::module_path!());
            };
            let #guard = #guard_new;
        },
    ))
}

/// The lookup of the series of a metric declared with `declare_metrics!`, and the guard
/// feeding it.
fn target_setup(
    attr: Attr,
    p: &TokenStream,
    target: &syn::Path,
    labels: Option<&(Span, Vec<args::LabelArg>)>,
) -> (TokenStream, TokenStream) {
    // On the target's tokens, so that a target of the wrong kind is reported there.
    let span = syn::spanned::Spanned::span(target);
    let mut lookup = quote_spanned!(span=> &*#target);
    if let Some((labels_span, labels)) = labels {
        let mut struct_path = target.clone();
        if let Some(last) = struct_path.segments.last_mut() {
            // Spanned on `labels`: a missing label is reported there.
            last.ident =
                syn::Ident::new(&labels_struct_name(&last.ident.to_string()), *labels_span);
        }
        let names = labels.iter().map(|l| &l.name);
        let values = labels.iter().map(|l| &l.value);
        lookup = quote_spanned!(span=> #target.with(#struct_path { #(#names: #values),* }));
    }
    let series = syn::Ident::new("__promlink_series", Span::mixed_site().located_at(span));
    let guard = quote_spanned!(Span::mixed_site()=> __promlink_guard);
    let guard_type = match attr {
        Attr::Counted => quote!(CountGuard),
        Attr::Timed => quote!(DurationGuard),
        Attr::InProgress => quote!(InProgressGuard),
    };
    (
        quote!(let #series = #lookup;),
        quote!(let #guard = #p::#guard_type::new(#series);),
    )
}

/// The body of a plain `fn` returning a future: a target's series is looked up first
/// (label values are read when the call starts), the body builds the future (its
/// `return`s become breaks), and an `async move` block returned in its place sets the
/// guards up when first polled and awaits it, as an `async fn` would.
fn returned_future(
    p: &TokenStream,
    lookup: &TokenStream,
    setup: &TokenStream,
    block: &Block,
    needs_value: bool,
    shape: body::ReturnedFuture,
) -> Block {
    let label = syn::Lifetime::new("'__promlink_body", Span::mixed_site());
    let future = quote_spanned!(Span::mixed_site()=> __promlink_future);
    let mut body = block.clone();
    body::returns_to_breaks(&mut body, &label);
    let awaited: Block = syn::parse_quote!({ #future.await });
    let instrumented = if needs_value {
        finish_with_value(p, setup, &awaited, &quote!(#future.await), None)
    } else {
        guarded(setup, &awaited)
    };
    let wrapped = match shape {
        body::ReturnedFuture::Impl => quote!(async move #instrumented),
        body::ReturnedFuture::Boxed => quote!(::std::boxed::Box::pin(async move #instrumented)),
    };
    in_users_braces(
        block,
        &quote! {
            #lookup
            #[allow(unused_labels)]
            let #future = #label: #body;
            #wrapped
        },
    )
}

/// The guards, then the body as its own block: for guards that need nothing from the
/// returned value.
fn guarded(setup: &TokenStream, block: &Block) -> Block {
    // The inner braces count as generated, so that a one-line body (`{ 3 }`) as the
    // tail of the block around it draws no `unused_braces`; the outer ones stay the
    // user's.
    let mut inner = block.clone();
    let span = block.brace_token.span.join();
    inner.brace_token = syn::token::Brace(Span::mixed_site().located_at(span));
    in_users_braces(block, &quote!(#setup #inner))
}

/// `statements` in a block with the user's own braces: with a brace from the macro, the
/// function's span would count as generated, and rustc would no longer warn when it is
/// never used.
fn in_users_braces(original: &Block, statements: &TokenStream) -> Block {
    let mut block: Block = syn::parse_quote!({ #statements });
    block.brace_token = original.brace_token;
    block
}

/// A sync body whose value the call counter reads: returns become breaks out of a
/// labelled block; `?` leaves without a value, an error for a function returning `Result`.
fn sync_value(
    p: &TokenStream,
    setup: &TokenStream,
    block: &Block,
    return_type: Option<&Type>,
) -> Block {
    let label = syn::Lifetime::new("'__promlink_body", Span::mixed_site());
    let mut body = block.clone();
    body::returns_to_breaks(&mut body, &label);
    let annotation = return_type.map(|ty| quote!(: #ty));
    finish_with_value(p, setup, block, &quote!(#label: #body), annotation.as_ref())
}

/// An async body whose value the call counter reads: an inner `async move` block that
/// `return` and `?` end, awaited in place.
fn async_value(
    p: &TokenStream,
    setup: &TokenStream,
    block: &Block,
    return_type: Option<&Type>,
) -> Block {
    let annotation = return_type.map(|ty| quote!(: #ty));
    finish_with_value(
        p,
        setup,
        block,
        &quote!(async move #block.await),
        annotation.as_ref(),
    )
}

/// The guards, the value of `body`, the outcome counted, the value returned.
fn finish_with_value(
    p: &TokenStream,
    setup: &TokenStream,
    original: &Block,
    body: &TokenStream,
    annotation: Option<&TokenStream>,
) -> Block {
    let returned = quote_spanned!(Span::mixed_site()=> __promlink_returned);
    let guard = quote_spanned!(Span::mixed_site()=> __promlink_guard);
    let statements = quote! {
        #setup
        #[allow(unreachable_code)]
        let #returned #annotation = #body;
        #[allow(unreachable_code)]
        let () = {
            use #p::{PlainOutcome as _, ResultOutcome as _};
            #guard.finish((&#p::Returned(&#returned)).call_result());
        };
        #returned
    };
    in_users_braces(original, &statements)
}

/// The function's doc comment, lines joined.
fn doc_comment(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let doc = lines.join("\n").trim().to_owned();
    (!doc.is_empty()).then_some(doc)
}
