//! The authentication layer: verify the bearer token, or answer per RFC 6750.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use scopegate_core::{Authenticator, Outcome, TokenSource, Verifier};
use tower_layer::Layer;
use tower_service::Service;

use crate::context::AuthContext;
use crate::future::ResponseFuture;
use crate::rejection::{DefaultRejection, Rejection};

/// Verifies the bearer token of every request and puts the
/// [`VerifiedToken`](scopegate_core::VerifiedToken) in its extensions, or answers with the
/// RFC 6750 rejection (401 / 400 / 503).
///
/// ```
/// use axum::{Router, routing::get};
/// use scopegate_tower::{AuthLayer, Claims};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// async fn private(claims: Claims) -> String {
///     format!("hello {}", claims.subject().unwrap_or("machine"))
/// }
///
/// let app: Router = Router::new()
///     .route("/api/private", get(private))
///     .layer(AuthLayer::new(verifier));
/// ```
#[derive(Debug)]
pub struct AuthLayer<R = DefaultRejection> {
    authenticator: Authenticator,
    realm: Arc<str>,
    rejection: Arc<R>,
}

impl<R> Clone for AuthLayer<R> {
    fn clone(&self) -> Self {
        Self {
            authenticator: self.authenticator.clone(),
            realm: Arc::clone(&self.realm),
            rejection: Arc::clone(&self.rejection),
        }
    }
}

impl AuthLayer {
    /// Requires a valid bearer token on every request, with the default realm `api`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            authenticator: Authenticator::new(verifier),
            realm: Arc::from(crate::DEFAULT_REALM),
            rejection: Arc::new(DefaultRejection),
        }
    }
}

impl<R> AuthLayer<R> {
    /// Lets requests without credentials through as anonymous (use `Option<Claims>` in
    /// handlers); requests with invalid credentials are still refused.
    pub fn optional(mut self) -> Self {
        self.authenticator = self.authenticator.optional();
        self
    }

    /// Where this layer reads the token, tried in order, the first source holding
    /// credentials winning (see [`TokenSource::find`]). Default: the `Authorization`
    /// header only.
    ///
    /// ```
    /// use scopegate_tower::{AuthLayer, TokenSource};
    /// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
    ///
    /// // A browser app's cookie, or a bearer header from API clients.
    /// let layer = AuthLayer::new(verifier)
    ///     .token_sources([TokenSource::Authorization, TokenSource::cookie("access_token")]);
    /// # let _ = layer;
    /// ```
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.authenticator = self.authenticator.token_sources(sources);
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges.
    pub fn realm(mut self, realm: impl Into<Arc<str>>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Replaces how refusals are answered, here and in [`RequireScopes`](crate::RequireScopes),
    /// extractors and `#[requires_scope]` behind this layer.
    pub fn rejection<R2>(self, rejection: R2) -> AuthLayer<R2> {
        AuthLayer {
            authenticator: self.authenticator,
            realm: self.realm,
            rejection: Arc::new(rejection),
        }
    }
}

impl<S, R> Layer<S> for AuthLayer<R> {
    type Service = Auth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug)]
pub struct Auth<S, R = DefaultRejection> {
    inner: S,
    layer: AuthLayer<R>,
}

impl<S: Clone, R> Clone for Auth<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, R, ReqB, ResB> Service<Request<ReqB>> for Auth<S, R>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    R: Rejection<ResB>,
    ReqB: Send + 'static,
    ResB: 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqB>) -> Self::Future {
        let outcome = self.layer.authenticator.authenticate(&request);
        let rejection: Arc<dyn Rejection<ResB>> = self.layer.rejection.clone();
        let context = AuthContext {
            realm: Arc::clone(&self.layer.realm),
            rejection,
        };
        match outcome {
            Outcome::Authenticated(token) => {
                request.extensions_mut().insert(token);
                request.extensions_mut().insert(context);
                ResponseFuture::inner(self.inner.call(request))
            }
            Outcome::Anonymous => {
                request.extensions_mut().insert(context);
                ResponseFuture::inner(self.inner.call(request))
            }
            Outcome::Rejected(error) => {
                ResponseFuture::rejected(context.rejection.reject(error, &context.realm))
            }
            Outcome::Pending(pending) => {
                // The service that was driven ready goes with the request; a clone stays.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::verifying(Box::pin(pending.resolve()), request, ready, context)
            }
        }
    }
}
