//! Parsing and validating the attribute's arguments.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token, parenthesized};

/// All of the scopes, or any one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matching {
    All,
    Any,
}

/// `"a:b", "c:d"` | `all("a:b", ...)` | `any("a:b", ...)`, every literal validated.
#[derive(Debug)]
pub(crate) struct ScopeArgs {
    pub(crate) matching: Matching,
    pub(crate) scopes: Vec<LitStr>,
}

impl Parse for ScopeArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(empty_list(Span::call_site()));
        }
        let (matching, scopes) = if input.peek(Ident) {
            let ident: Ident = input.parse()?;
            let matching = match ident.to_string().as_str() {
                "all" => Matching::All,
                "any" => Matching::Any,
                _ => {
                    return Err(syn::Error::new(
                        ident.span(),
                        "expected a `verb:resource` string literal, `all(...)` or `any(...)`",
                    ));
                }
            };
            let content;
            let parens = parenthesized!(content in input);
            let scopes = literals(&content)?;
            if scopes.is_empty() {
                return Err(empty_list(parens.span.join()));
            }
            if !input.is_empty() {
                return Err(input.error("nothing may follow `all(...)` or `any(...)`"));
            }
            (matching, scopes)
        } else {
            (Matching::All, literals(input)?)
        };
        for scope in &scopes {
            if let Err(error) = scopegate_syntax::validate_scope(&scope.value()) {
                return Err(syn::Error::new(
                    scope.span(),
                    format!("invalid scope {:?}: {}", scope.value(), error.message()),
                ));
            }
        }
        Ok(Self { matching, scopes })
    }
}

fn literals(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    let parsed = Punctuated::<LitStr, Token![,]>::parse_terminated(input)
        .map_err(|e| syn::Error::new(e.span(), "expected a `verb:resource` string literal"))?;
    Ok(parsed.into_iter().collect())
}

fn empty_list(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[requires_scope] needs at least one `verb:resource` scope",
    )
}

/// What a claim must hold: `equals("claim", literal)` or `includes("claim", "a", ...)`.
#[derive(Debug)]
pub(crate) struct ClaimArgs {
    pub(crate) claim: LitStr,
    pub(crate) rule: ClaimTest,
}

/// The test a claim must pass.
#[derive(Debug)]
pub(crate) enum ClaimTest {
    /// Equal to a string, integer or boolean literal.
    Equals(Lit),
    /// Includes every one of these strings.
    Includes(Vec<LitStr>),
}

const CLAIM_FORMS: &str =
    "expected `equals(\"claim\", value)` or `includes(\"claim\", \"value\", ...)`";

impl Parse for ClaimArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let ident: Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), CLAIM_FORMS))?;
        let includes = match ident.to_string().as_str() {
            "equals" => false,
            "includes" => true,
            _ => return Err(syn::Error::new(ident.span(), CLAIM_FORMS)),
        };
        let content;
        let parens = parenthesized!(content in input);
        if !input.is_empty() {
            return Err(input.error("nothing may follow the claim rule"));
        }
        let claim: LitStr = content.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the claim name as a string literal")
        })?;
        if claim.value().is_empty() {
            return Err(syn::Error::new(
                claim.span(),
                "the claim name must not be empty",
            ));
        }
        if content.is_empty() {
            return Err(syn::Error::new(
                parens.span.join(),
                "expected a value after the claim name",
            ));
        }
        content.parse::<Token![,]>()?;
        let rule = if includes {
            let values = literals(&content)
                .map_err(|e| syn::Error::new(e.span(), "expected string literals to include"))?;
            if values.is_empty() {
                return Err(syn::Error::new(
                    parens.span.join(),
                    "expected at least one value to include",
                ));
            }
            ClaimTest::Includes(values)
        } else {
            let value: Lit = content.parse()?;
            if !matches!(value, Lit::Str(_) | Lit::Int(_) | Lit::Bool(_)) {
                return Err(syn::Error::new(
                    value.span(),
                    "a claim can equal a string, integer or boolean literal",
                ));
            }
            let _ = content.parse::<Option<Token![,]>>()?;
            if !content.is_empty() {
                return Err(content.error("`equals` takes one value"));
            }
            ClaimTest::Equals(value)
        };
        Ok(Self { claim, rule })
    }
}
