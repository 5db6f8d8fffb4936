//! # scopegate-tower
//!
//! Protect axum (and any tower) services with OAuth 2.0 bearer access tokens and
//! `verb:resource` scopes. [`AuthLayer`] verifies the token and answers refusals per
//! RFC 6750; [`RequireScopes`], the [`Claims`] extractor and `#[requires_scope]` put
//! scope rules on routes. All decisions are made by `scopegate-core`; this crate only
//! translates.
//!
//! ```
//! use axum::{Json, Router, routing::{get, post}};
//! use scopegate_tower::{AuthLayer, Claims, Verifier, requires_scope};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct NewProduct {
//!     name: String,
//! }
//!
//! #[requires_scope("write:products")]
//! async fn create_product(claims: Claims, Json(product): Json<NewProduct>) -> String {
//!     format!("{} created {}", claims.subject().unwrap_or("machine"), product.name)
//! }
//!
//! async fn private(claims: Claims) -> String {
//!     format!("granted: {}", claims.scopes())
//! }
//!
//! # fn app() -> Result<Router, scopegate_tower::ConfigError> {
//! let verifier = Verifier::auth0("your-tenant.us.auth0.com", "https://api.example.com").build()?;
//! let app = Router::new()
//!     .route("/api/products", post(create_product))
//!     .route("/api/private", get(private))
//!     .layer(AuthLayer::new(verifier));
//! # Ok(app)
//! # }
//! # app().unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod context;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod grpc;
#[cfg(feature = "axum")]
mod guard;
mod layer;
mod rejection;
mod require_claims;
mod require_scopes;
mod route_check;

/// The realm of challenges unless [`AuthLayer::realm`] says otherwise.
pub const DEFAULT_REALM: &str = "api";

#[cfg(feature = "axum")]
pub use extract::{AuthRejection, Claims};
pub use future::ResponseFuture;
pub use grpc::{GrpcAuthLayer, GrpcRejection, MethodCheck};
pub use layer::{Auth, AuthLayer};
pub use rejection::{DefaultRejection, Rejection};
pub use require_claims::RequireClaims;
pub use require_scopes::{RequireScopes, RequireScopesService};
pub use route_check::RouteCheckService;
pub use scopegate_core::{
    Access, AuthError, ClaimRule, ConfigError, ErrorKind, GrpcCode, MethodRules, Requirement,
    Scope, ScopeSet, TokenSource, VerifiedToken, Verifier, VerifierConfig,
};

/// `#[requires_scope("verb:resource", ...)]` on an axum handler: the handler runs only
/// when the request's verified token grants the scopes (all of them; or
/// `any("a:b", "c:d")`; or `all(...)`). Literals are checked at compile time. Without
/// [`AuthLayer`] on the route, the handler never runs (401).
#[cfg(feature = "macros")]
pub use scopegate_macros::requires_scope_axum as requires_scope;

/// `#[requires_claim(equals("claim", value))]` or
/// `#[requires_claim(includes("claim", "a", ...))]` on a handler: it runs only when the
/// verified token's claim equals the literal (string, integer or boolean) or includes every
/// string; otherwise 403 `insufficient_scope` (401 without a verified token).
#[cfg(feature = "macros")]
pub use scopegate_macros::requires_claim_axum as requires_claim;

/// Used by `#[requires_scope]` expansions. Not a public API.
#[cfg(feature = "axum")]
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{RouteGuard, RouteRule};
    pub use scopegate_core::{ClaimRule, Match, Requirement, RouteCheck};
    pub use std::sync::LazyLock;
}
