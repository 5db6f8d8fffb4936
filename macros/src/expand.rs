//! Generating the guarded handler.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ItemFn, parse_quote};

use crate::args::{ClaimArgs, ClaimTest, Matching, ScopeArgs};

/// Checks that `item` is a free `async fn` handler; `attribute` names the macro in errors.
pub(crate) fn parse_handler(item: TokenStream, attribute: &str) -> syn::Result<ItemFn> {
    let handler: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("#[{attribute}] applies to `async fn` request handlers"),
        )
    })?;
    if handler.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            handler.sig.fn_token,
            format!("#[{attribute}] handlers must be `async fn`"),
        ));
    }
    if let Some(receiver) = handler.sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            format!("#[{attribute}] applies to free handler functions, not methods"),
        ));
    }
    Ok(handler)
}

/// The handler with a leading scope-guard argument, and the marker type carrying its rule.
/// `krate` is the adapter crate whose `__private` module provides the guard, `Match`,
/// `Requirement`, `ClaimRule` and `LazyLock`.
pub(crate) fn guarded_handler(
    krate: &TokenStream,
    args: &ScopeArgs,
    handler: ItemFn,
) -> TokenStream {
    let matching = match args.matching {
        Matching::All => quote!(#krate::__private::Match::All),
        Matching::Any => quote!(#krate::__private::Match::Any),
    };
    let scopes = &args.scopes;
    let rule = quote! {
        #krate::__private::Requirement::from_static(#matching, &[#(#scopes),*])
    };
    with_guard(
        krate,
        "rule",
        quote!(#krate::__private::Requirement),
        rule,
        handler,
    )
}

/// The handler with a leading claim-guard argument, and the marker type carrying its rule.
pub(crate) fn claim_guarded_handler(
    krate: &TokenStream,
    args: &ClaimArgs,
    handler: ItemFn,
) -> TokenStream {
    let claim = &args.claim;
    let rule = match &args.rule {
        ClaimTest::Equals(value) => quote! {
            #krate::__private::ClaimRule::equals(#claim, #value)
        },
        ClaimTest::Includes(values) => quote! {
            #krate::__private::ClaimRule::includes(#claim, [#(#values),*])
        },
    };
    with_guard(
        krate,
        "claim_rule",
        quote!(#krate::__private::ClaimRule),
        rule,
        handler,
    )
}

/// Inserts the guard argument for a marker (named after `kind` and the handler) whose
/// rule, of type `rule_type`, `rule` builds once.
fn with_guard(
    krate: &TokenStream,
    kind: &str,
    rule_type: TokenStream,
    rule: TokenStream,
    mut handler: ItemFn,
) -> TokenStream {
    let marker = format_ident!("__scopegate_{}_{}", kind, handler.sig.ident);
    let vis = &handler.vis;
    let guard: FnArg = parse_quote!(_: #krate::__private::RouteGuard<#marker>);
    handler.sig.inputs.insert(0, guard);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl #krate::__private::RouteRule for #marker {
            fn rule() -> &'static dyn #krate::__private::RouteCheck {
                static RULE: #krate::__private::LazyLock<#rule_type> =
                    #krate::__private::LazyLock::new(|| #rule);
                &*RULE
            }
        }

        #handler
    }
}
