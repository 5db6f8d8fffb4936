//! Route-level scope rules without macros.

use std::task::{Context, Poll};

use http::{Request, Response};
use scopegate_core::{Requirement, VerifiedToken};
use tower_layer::Layer;
use tower_service::Service;

use crate::context::{AuthContext, reject};
use crate::future::ResponseFuture;

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
        RequireScopesService {
            inner,
            requirement: self.requirement.clone(),
        }
    }
}

/// The service made by [`RequireScopes`].
#[derive(Debug, Clone)]
pub struct RequireScopesService<S> {
    inner: S,
    requirement: Requirement,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for RequireScopesService<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Send + 'static,
    ResB: From<String> + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let extensions = request.extensions();
        let context = extensions.get::<AuthContext<ResB>>();
        match self
            .requirement
            .authorize(extensions.get::<VerifiedToken>(), context.is_some())
        {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(error) => ResponseFuture::rejected(reject(context, error)),
        }
    }
}
