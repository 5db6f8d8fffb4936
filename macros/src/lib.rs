//! # scopegate-macros
//!
//! `#[requires_scope(...)]` for handlers protected by scopegate. Use it through the
//! adapter crate, which re-exports the right variant as `requires_scope`:
//! `scopegate_tower::requires_scope` for axum, `scopegate_actix::requires_scope` for
//! actix-web. Parsing and compile-time validation are shared; only the generated paths
//! differ.
//!
//! Forms: `#[requires_scope("write:products")]`; several literals mean all of them;
//! `#[requires_scope(any("read:orders", "read:analytics"))]`; `all(...)`. Each literal must
//! be `verb:resource` in RFC 6749 scope characters, checked when the crate compiles.
//!
//! `#[requires_claim(equals("org_id", "acme"))]` and
//! `#[requires_claim(includes("https://retail.example/roles", "billing", ...))]` put a
//! claim rule on a handler the same way.
//!
//! The macro adds a first argument to the handler, an extractor that refuses the request
//! (403 `insufficient_scope`, or 401 without a verified token) before any other
//! extractor runs; the rest of the handler stays as written.

mod args;
mod expand;

use proc_macro::TokenStream;
use quote::quote;

use args::{ClaimArgs, ScopeArgs};

/// `#[requires_scope]` for axum handlers; re-exported as `scopegate_tower::requires_scope`.
#[proc_macro_attribute]
pub fn requires_scope_axum(attr: TokenStream, item: TokenStream) -> TokenStream {
    requires_scope(quote!(::scopegate_tower), attr, item)
}

/// `#[requires_scope]` for actix-web handlers; re-exported as `scopegate_actix::requires_scope`.
#[proc_macro_attribute]
pub fn requires_scope_actix(attr: TokenStream, item: TokenStream) -> TokenStream {
    requires_scope(quote!(::scopegate_actix), attr, item)
}

/// Expands the attribute, or, on a mistake, emits the error next to the untouched item so
/// that only the mistake is reported (not follow-up errors from code that uses the handler).
fn requires_scope(
    krate: proc_macro2::TokenStream,
    attr: TokenStream,
    item: TokenStream,
) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let expanded = syn::parse::<ScopeArgs>(attr).and_then(|args| {
        let handler = expand::parse_handler(item.clone(), "requires_scope")?;
        Ok(expand::guarded_handler(&krate, &args, handler))
    });
    or_original(expanded, item)
}

/// `#[requires_claim]` for axum handlers; re-exported as `scopegate_tower::requires_claim`.
#[proc_macro_attribute]
pub fn requires_claim_axum(attr: TokenStream, item: TokenStream) -> TokenStream {
    requires_claim(quote!(::scopegate_tower), attr, item)
}

/// `#[requires_claim]` for actix-web handlers; re-exported as `scopegate_actix::requires_claim`.
#[proc_macro_attribute]
pub fn requires_claim_actix(attr: TokenStream, item: TokenStream) -> TokenStream {
    requires_claim(quote!(::scopegate_actix), attr, item)
}

fn requires_claim(
    krate: proc_macro2::TokenStream,
    attr: TokenStream,
    item: TokenStream,
) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let expanded = syn::parse::<ClaimArgs>(attr).and_then(|args| {
        let handler = expand::parse_handler(item.clone(), "requires_claim")?;
        Ok(expand::claim_guarded_handler(&krate, &args, handler))
    });
    or_original(expanded, item)
}

/// The expansion, or the error next to the untouched item.
fn or_original(
    expanded: syn::Result<proc_macro2::TokenStream>,
    item: proc_macro2::TokenStream,
) -> TokenStream {
    match expanded {
        Ok(expanded) => expanded.into(),
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#error #item).into()
        }
    }
}
