//! # scopegate-core
//!
//! The framework-agnostic engine of scopegate: it reads OAuth 2.0 bearer credentials
//! (RFC 6750), verifies JWT access tokens (RFC 7519, RFC 9068, RFC 8725), reads the scopes
//! they grant and checks them against `verb:resource` requirements. Every decision lives
//! here; the axum/tower and actix-web adapters only translate requests and responses.
//!
//! ```
//! use scopegate_core::{test_util::TestIssuer, ErrorKind, Requirement, VerifierConfig};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! // In production: VerifierConfig::auth0("your-tenant.us.auth0.com", "https://api.example/")
//! // with the tenant's keys. Here, a local issuer with a fresh RSA key:
//! let issuer = TestIssuer::new();
//! let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
//!     .keys(issuer.key_set())
//!     .build()?;
//!
//! let token = issuer.token().scope("read:orders").sign();
//! let header = format!("Bearer {token}");
//! let verified = verifier.authenticate([header.as_bytes()], None).await?;
//! assert_eq!(verified.subject(), Some("auth0|test-user"));
//!
//! let write_products = Requirement::all(["write:products"])?;
//! let denied = write_products.check(&verified).unwrap_err();
//! assert_eq!(denied.kind(), ErrorKind::InsufficientScope);
//! assert_eq!(denied.status().as_u16(), 403);
//! assert_eq!(
//!     denied.challenge("api").as_deref(),
//!     Some(r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="write:products""#),
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Feature `test-util` adds `test_util::TestIssuer`, which signs real tokens for testing
//! your own API.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod algorithm;
pub mod audit;
mod authenticator;
pub mod bearer;
mod claim_rule;
mod claims;
mod config;
mod dpop;
mod error;
mod grpc;
mod header;
mod issuer;
mod json;
mod key_source;
mod keys;
mod method_rules;
mod outcome;
mod profile;
mod remote;
mod request_view;
mod requirement;
mod response;
mod route_check;
mod scope;
mod scope_set;
mod signature;
mod token;
mod token_cache;
mod token_source;
mod validation;
mod verifier;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

pub use access::Access;
pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use authenticator::Authenticator;
pub use claim_rule::ClaimRule;
pub use claims::{NoCustomClaims, TokenClaims};
pub use config::{ConfigError, VerifierConfig};
pub use dpop::{Dpop, DpopMode, MemoryReplayStore, ReplayStore};
pub use error::{AuthError, ErrorKind};
pub use grpc::GrpcCode;
pub use issuer::Issuer;
pub use key_source::KeySource;
pub use keys::{KeyError, KeySet, MIN_HMAC_SECRET_LEN, MIN_RSA_BITS, VerificationKey};
pub use method_rules::MethodRules;
pub use outcome::{AuthMode, Outcome, PendingVerification};
pub use profile::Profile;
pub use remote::{KeyCacheStatus, RemoteKeys};
pub use request_view::{HttpHeaderValues, RequestView};
pub use requirement::{Match, Requirement};
pub use route_check::RouteCheck;
pub use scope::{Scope, ScopeError};
pub use scope_set::{ScopeSet, ScopeSource};
pub use scopegate_syntax::{ScopeSyntaxError, is_scope_char, validate_scope};
pub use token::VerifiedToken;
pub use token_source::TokenSource;
pub use verifier::Verifier;
