//! Reading and rewriting a function body: `return` into a labelled `break`, and the
//! shape `#[async_trait]` gives async methods.

use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ExprAsync, Lifetime, ReturnType, Stmt, Type};

/// Turns every `return` of this body (not of closures, async blocks or nested items
/// inside it) into `break 'label`, so that the labelled block around the body sees the
/// value. `?` still leaves the function: the guard reads that as an early exit.
pub(crate) fn returns_to_breaks(block: &mut Block, label: &Lifetime) {
    struct Rewrite<'a>(&'a Lifetime);

    impl VisitMut for Rewrite<'_> {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            match expr {
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
                Expr::Return(ret) => {
                    if let Some(value) = &mut ret.expr {
                        self.visit_expr_mut(value);
                    }
                    let label = self.0;
                    let value = ret.expr.take();
                    let attrs = std::mem::take(&mut ret.attrs);
                    *expr = syn::parse_quote_spanned!(ret.return_token.span=> #(#attrs)* break #label #value);
                }
                _ => syn::visit_mut::visit_expr_mut(self, expr),
            }
        }

        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }

    Rewrite(label).visit_block_mut(block);
}

/// The async block of a method that `#[async_trait]` already rewrote: a body ending in
/// `Box::pin(async move { .. })`.
pub(crate) fn async_trait_block(block: &mut Block) -> Option<&mut ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return None;
    };
    let Expr::Path(function) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = function
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(inner)) if inner.capture.is_some() => Some(inner),
        _ => None,
    }
}

/// Whether the return type is spelled `Result<..>` (`std::io::Result<..>`...): what tells
/// a `Result` apart when the type holds `impl Trait` and cannot be named.
pub(crate) fn spelled_result(output: &ReturnType) -> bool {
    fn is_result(ty: &Type) -> bool {
        match ty {
            Type::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Result"),
            Type::Paren(paren) => is_result(&paren.elem),
            Type::Group(group) => is_result(&group.elem),
            _ => false,
        }
    }
    matches!(output, ReturnType::Type(_, ty) if is_result(ty))
}

/// The return type to pin the body's value to, so that a type error points into the
/// body rather than at the attribute: `()` without one, and none when it holds
/// `impl Trait` or `!` (which cannot be written in a `let`).
pub(crate) fn nameable_return_type(output: &ReturnType) -> Option<Type> {
    struct FindsImpl(bool);

    impl VisitMut for FindsImpl {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if matches!(
                ty,
                Type::ImplTrait(_) | Type::Infer(_) | Type::Macro(_) | Type::Never(_)
            ) {
                self.0 = true;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }

    match output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            let mut finds = FindsImpl(false);
            finds.visit_type_mut(&mut ty);
            (!finds.0).then_some(ty)
        }
    }
}

/// How a function that is not `async` returns a future, by spelling: then the attributes
/// instrument the future rather than its construction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReturnedFuture {
    /// `impl Future<..>` (with other bounds or not).
    Impl,
    /// `Pin<Box<dyn Future<..>>>`, `BoxFuture<..>`, `LocalBoxFuture<..>`, or
    /// `impl Future<..> + Unpin`.
    Boxed,
}

/// Whether `output` is a future, and of which shape.
pub(crate) fn returned_future(output: &ReturnType) -> Option<ReturnedFuture> {
    fn names_future(
        bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
    ) -> bool {
        bounds.iter().any(|bound| {
            matches!(bound, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
        })
    }
    fn shape(ty: &Type) -> Option<ReturnedFuture> {
        match ty {
            Type::ImplTrait(bounds) if names_future(&bounds.bounds) => {
                // An `async` block is not `Unpin`; a boxed one is.
                let unpin = bounds.bounds.iter().any(|bound| {
                    matches!(bound, syn::TypeParamBound::Trait(t)
                        if t.path.segments.last().is_some_and(|s| s.ident == "Unpin"))
                });
                Some(if unpin {
                    ReturnedFuture::Boxed
                } else {
                    ReturnedFuture::Impl
                })
            }
            Type::Paren(paren) => shape(&paren.elem),
            Type::Group(group) => shape(&group.elem),
            Type::Path(path) => {
                let last = path.path.segments.last()?;
                if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                    return Some(ReturnedFuture::Boxed);
                }
                // `Pin<Box<dyn Future>>`
                let inner = |segment: &syn::PathSegment, name: &str| -> Option<Type> {
                    if segment.ident != name {
                        return None;
                    }
                    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                        return None;
                    };
                    args.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::Type(ty) => Some(ty.clone()),
                        _ => None,
                    })
                };
                let boxed = inner(last, "Pin")?;
                let Type::Path(boxed) = boxed else {
                    return None;
                };
                let object = inner(boxed.path.segments.last()?, "Box")?;
                match object {
                    Type::TraitObject(object) if names_future(&object.bounds) => {
                        Some(ReturnedFuture::Boxed)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
    match output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => shape(ty),
    }
}

/// Checks that label values name only what exists when the call starts: a value whose
/// first word is a lowercase name that is no argument (`response.status`, or an argument
/// misspelt) would be rustc's "cannot find value", or for `path` "found built-in
/// attribute"; the error says where values come from. Uppercase names are constants.
pub(crate) fn check_label_values<'a>(
    values: impl Iterator<Item = &'a Expr>,
    sig: &syn::Signature,
) -> syn::Result<()> {
    fn root(expr: &Expr) -> Option<&syn::Ident> {
        match expr {
            Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
            Expr::Field(field) => root(&field.base),
            Expr::MethodCall(call) => root(&call.receiver),
            Expr::Reference(reference) => root(&reference.expr),
            Expr::Paren(paren) => root(&paren.expr),
            Expr::Group(group) => root(&group.expr),
            Expr::Index(index) => root(&index.expr),
            _ => None,
        }
    }
    fn bindings(pat: &syn::Pat, out: &mut Vec<String>) {
        match pat {
            syn::Pat::Ident(ident) => out.push(ident.ident.to_string()),
            syn::Pat::Reference(r) => bindings(&r.pat, out),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| bindings(p, out)),
            syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bindings(p, out)),
            syn::Pat::Struct(s) => s.fields.iter().for_each(|f| bindings(&f.pat, out)),
            syn::Pat::Type(t) => bindings(&t.pat, out),
            _ => {}
        }
    }
    let mut arguments = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(_) => arguments.push("self".to_owned()),
            syn::FnArg::Typed(typed) => bindings(&typed.pat, &mut arguments),
        }
    }
    let mut errors = crate::errors::Errors::default();
    for value in values {
        let Some(name) = root(value) else { continue };
        let text = name.to_string();
        let lowercase = text
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() || c == '_');
        if lowercase && !arguments.contains(&text) {
            let listed = if arguments.is_empty() {
                "it has none".to_owned()
            } else {
                arguments
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            errors.push(
                name.span(),
                format!(
                    "`{text}` is not an argument of `{}` ({listed}): label values are read \
                     when the call starts, from the arguments and constants. To label by what \
                     the body finds out, count in the body: `METRIC.labels(..).inc()`",
                    sig.ident
                ),
            );
        }
    }
    errors.into_result()
}
