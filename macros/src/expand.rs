//! Generating the guarded handler.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ItemFn, parse_quote};

use crate::args::{Matching, ScopeArgs};

/// Checks that `item` is a free `async fn` handler.
pub(crate) fn parse_handler(item: TokenStream) -> syn::Result<ItemFn> {
    let handler: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[requires_scope] applies to `async fn` request handlers",
        )
    })?;
    if handler.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            handler.sig.fn_token,
            "#[requires_scope] handlers must be `async fn`",
        ));
    }
    if let Some(receiver) = handler.sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            "#[requires_scope] applies to free handler functions, not methods",
        ));
    }
    Ok(handler)
}

/// The handler with a leading scope-guard argument, and the marker type carrying its rule.
/// `krate` is the adapter crate whose `__private` module provides `ScopeGuard`,
/// `ScopeRule`, `Match`, `Requirement` and `LazyLock`.
pub(crate) fn guarded_handler(
    krate: &TokenStream,
    args: &ScopeArgs,
    mut handler: ItemFn,
) -> TokenStream {
    let marker = format_ident!("__scopegate_rule_{}", handler.sig.ident);
    let vis = &handler.vis;
    let matching = match args.matching {
        Matching::All => quote!(#krate::__private::Match::All),
        Matching::Any => quote!(#krate::__private::Match::Any),
    };
    let scopes = &args.scopes;
    let guard: FnArg = parse_quote!(_: #krate::__private::ScopeGuard<#marker>);
    handler.sig.inputs.insert(0, guard);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl #krate::__private::ScopeRule for #marker {
            fn requirement() -> &'static #krate::__private::Requirement {
                static REQUIREMENT: #krate::__private::LazyLock<#krate::__private::Requirement> =
                    #krate::__private::LazyLock::new(|| {
                        #krate::__private::Requirement::from_static(#matching, &[#(#scopes),*])
                    });
                &REQUIREMENT
            }
        }

        #handler
    }
}
