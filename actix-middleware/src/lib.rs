//! # scopegate-actix
//!
//! Protect actix-web services with OAuth 2.0 bearer access tokens and `verb:resource`
//! scopes. [`ScopeGate`] verifies the token and answers refusals per RFC 6750;
//! [`RequireScopes`], the [`Claims`] extractor and `#[requires_scope]` put scope rules on
//! routes. All decisions are made by `scopegate-core`, exactly as for axum.
//!
//! ```
//! use actix_web::{App, HttpResponse, Responder, post, web};
//! use scopegate_actix::{Claims, ScopeGate, Verifier, requires_scope};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct NewProduct {
//!     name: String,
//! }
//!
//! #[post("/api/products")]
//! #[requires_scope("write:products")]
//! async fn create(claims: Claims, body: web::Json<NewProduct>) -> impl Responder {
//!     HttpResponse::Created().body(format!("{} created {}", claims.subject().unwrap_or("machine"), body.name))
//! }
//!
//! # fn app() -> Result<(), scopegate_actix::ConfigError> {
//! let verifier = Verifier::auth0("your-tenant.us.auth0.com", "https://api.example.com").build()?;
//! let app = App::new().wrap(ScopeGate::new(verifier)).service(create);
//! # let _ = app;
//! # Ok(())
//! # }
//! # app().unwrap();
//! ```

mod context;
mod extract;
mod future;
mod guard;
mod middleware;
mod rejection;
mod request_view;
mod require_claims;
mod require_scopes;
mod route_check;
mod swallowed;

/// The realm of challenges unless [`ScopeGate::realm`] says otherwise.
pub const DEFAULT_REALM: &str = "api";

pub use extract::{AuthRejection, Claims, OptionalClaims};
pub use future::GateFuture;
pub use middleware::{ScopeGate, ScopeGateMiddleware};
pub use rejection::{DefaultRejection, Rejection};
pub use require_claims::RequireClaims;
pub use require_scopes::{RequireScopes, RequireScopesMiddleware};
pub use route_check::RouteCheckMiddleware;
pub use scopegate_core::{
    AuthError, ClaimRule, ConfigError, ErrorKind, NoCustomClaims, Requirement, Scope, ScopeSet,
    TokenClaims, TokenSource, VerifiedToken, Verifier, VerifierConfig,
};

/// `#[requires_scope("verb:resource", ...)]` on an actix-web handler, placed under the
/// routing attribute: the handler runs only when the request's verified token grants the
/// scopes (all of them; or `any("a:b", "c:d")`; or `all(...)`). Literals are checked at
/// compile time. Without [`ScopeGate`], the handler never runs (401).
#[cfg(feature = "macros")]
pub use scopegate_macros::requires_scope_actix as requires_scope;

/// `#[requires_claim(equals("claim", value))]` or
/// `#[requires_claim(includes("claim", "a", ...))]` on a handler: it runs only when the
/// verified token's claim equals the literal (string, integer or boolean) or includes every
/// string; otherwise 403 `insufficient_scope` (401 without a verified token).
#[cfg(feature = "macros")]
pub use scopegate_macros::requires_claim_actix as requires_claim;

/// Used by `#[requires_scope]` expansions. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{RouteGuard, RouteRule};
    pub use scopegate_core::{ClaimRule, Match, Requirement, RouteCheck};
    pub use std::sync::LazyLock;
}
