//! gRPC (tonic) services: refusals as trailers-only responses, rules per method.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use scopegate_core::{AuthError, MethodRules, TokenSource, VerifiedToken, Verifier};
use tower_layer::Layer;
use tower_service::Service;

use crate::context::AuthContext;
use crate::future::ResponseFuture;
use crate::layer::{Auth, AuthLayer};
use crate::rejection::Rejection;

/// Answers refusals as gRPC trailers-only responses (see
/// [`AuthError::to_grpc_response`]): `UNAUTHENTICATED`, `PERMISSION_DENIED` or
/// `UNAVAILABLE`, with a fixed `grpc-message`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcRejection;

impl<B: Default> Rejection<B> for GrpcRejection {
    fn reject(&self, error: AuthError, _realm: &str) -> Response<B> {
        error.to_grpc_response()
    }
}

/// Protects a tonic server: verifies the token in the `authorization` metadata, then
/// applies the [`MethodRules`] of the called method; refusals are gRPC statuses. The
/// [`VerifiedToken`] is in the request extensions of every method that was let through
/// with a token (`request.extensions().get::<VerifiedToken>()` in tonic handlers).
///
/// A request without credentials reaches only [`Access::Public`](scopegate_core::Access)
/// methods; credentials that are presented are verified everywhere, so an invalid token
/// is refused even on a public method.
///
/// ```
/// use scopegate_tower::{GrpcAuthLayer, MethodRules, Requirement};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let rules = MethodRules::new()
///     .public("/grpc.health.v1.Health/Check")?
///     .require("/grpc.health.v1.Health/Watch", Requirement::all(["read:health"])?)?;
/// let layer = GrpcAuthLayer::new(verifier, rules);
/// // tonic::transport::Server::builder().layer(layer).add_service(..)
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct GrpcAuthLayer {
    auth: AuthLayer<GrpcRejection>,
    rules: Arc<MethodRules>,
}

impl GrpcAuthLayer {
    /// Verifies tokens with `verifier` and decides each method by `rules`.
    pub fn new(verifier: Verifier, rules: MethodRules) -> Self {
        Self {
            auth: AuthLayer::new(verifier).optional().rejection(GrpcRejection),
            rules: Arc::new(rules),
        }
    }

    /// Where the token is read (default: the `authorization` metadata as
    /// `Bearer <token>`); see [`AuthLayer::token_sources`].
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.auth = self.auth.token_sources(sources);
        self
    }
}

impl<S> Layer<S> for GrpcAuthLayer {
    type Service = Auth<MethodCheck<S>, GrpcRejection>;

    fn layer(&self, inner: S) -> Self::Service {
        self.auth.layer(MethodCheck {
            inner,
            rules: Arc::clone(&self.rules),
        })
    }
}

/// The per-method check inside [`GrpcAuthLayer`]: passes the request on when the
/// method's rule holds, answers the gRPC refusal otherwise.
#[derive(Debug)]
pub struct MethodCheck<S> {
    inner: S,
    rules: Arc<MethodRules>,
}

impl<S: Clone> Clone for MethodCheck<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            rules: Arc::clone(&self.rules),
        }
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for MethodCheck<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Send + 'static,
    ResB: Default + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let extensions = request.extensions();
        let authenticated = extensions.get::<AuthContext<ResB>>().is_some();
        let token = extensions.get::<VerifiedToken>();
        match self
            .rules
            .authorize(request.uri().path(), token, authenticated)
        {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(error) => ResponseFuture::rejected(error.to_grpc_response()),
        }
    }
}
