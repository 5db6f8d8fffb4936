//! Route-level scope rules without macros.

use scopegate_core::Requirement;
use tower_layer::Layer;

use crate::route_check::RouteCheckService;

/// Requires scopes on a route: 403 `insufficient_scope` (with `scope="..."`) when the
/// verified token lacks them. Put it behind [`AuthLayer`](crate::AuthLayer), e.g. with
/// axum's `route_layer`; without a verified token it fails closed with 401 and logs that
/// the auth layer is missing.
///
/// ```
/// use axum::{Router, routing::post};
/// use scopegate_tower::{AuthLayer, RequireScopes};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let app: Router = Router::new()
///     .route("/api/products", post(|| async { "created" }).route_layer(RequireScopes::all(["write:products"])))
///     .layer(AuthLayer::new(verifier));
/// ```
#[derive(Debug, Clone)]
pub struct RequireScopes {
    requirement: Requirement,
}

impl RequireScopes {
    /// Requires `requirement`.
    pub fn new(requirement: Requirement) -> Self {
        Self { requirement }
    }

    /// Requires every one of `scopes`.
    ///
    /// # Panics
    ///
    /// Panics if a scope is not `verb:resource` or the list is empty: a route definition
    /// mistake, caught when the router is built.
    pub fn all<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::new(Requirement::all(scopes).unwrap_or_else(|e| panic!("RequireScopes::all: {e}")))
    }

    /// Requires at least one of `scopes`.
    ///
    /// # Panics
    ///
    /// Panics if a scope is not `verb:resource` or the list is empty.
    pub fn any<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::new(Requirement::any(scopes).unwrap_or_else(|e| panic!("RequireScopes::any: {e}")))
    }
}

impl<S> Layer<S> for RequireScopes {
    type Service = RequireScopesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteCheckService::new(inner, self.requirement.clone())
    }
}

/// The service made by [`RequireScopes`].
pub type RequireScopesService<S> = RouteCheckService<S, Requirement>;
