//! Route-level claim rules without macros.

use scopegate_core::ClaimRule;
use serde_json::Value;
use tower_layer::Layer;

use crate::route_check::RouteCheckService;

/// Requires a claim rule on a route: 403 `insufficient_scope` ("The access token lacks a
/// claim this route requires") when the verified token fails it. The rules of Auth0's
/// `claimEquals`, `claimIncludes` and `claimCheck`, per route; put it behind
/// [`AuthLayer`](crate::AuthLayer), e.g. with axum's `route_layer`. Without a verified
/// token it fails closed with 401.
///
/// ```
/// use axum::{Router, routing::get};
/// use scopegate_tower::{AuthLayer, RequireClaims};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let app: Router = Router::new()
///     .route(
///         "/api/billing",
///         get(|| async { "invoices" })
///             .route_layer(RequireClaims::includes("https://retail.example/roles", ["billing"])),
///     )
///     .layer(AuthLayer::new(verifier));
/// ```
#[derive(Debug, Clone)]
pub struct RequireClaims {
    rule: ClaimRule,
}

impl RequireClaims {
    /// Requires `rule`.
    pub fn new(rule: ClaimRule) -> Self {
        Self { rule }
    }

    /// The claim must equal `value` (JSON equality).
    pub fn equals(claim: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(ClaimRule::equals(claim, value))
    }

    /// The claim (an array, or a space-separated string) must include every one of `values`.
    pub fn includes<I>(claim: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self::new(ClaimRule::includes(claim, values))
    }
}

impl<S> Layer<S> for RequireClaims {
    type Service = RouteCheckService<S, ClaimRule>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteCheckService::new(inner, self.rule.clone())
    }
}
