//! The authentication layer: verify the bearer token, or answer per RFC 6750.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response};
use scopegate_core::{AuthMode, Outcome, TokenSource, Verifier};
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
    verifier: Verifier,
    mode: AuthMode,
    /// `None`: the `Authorization` header.
    token_sources: Option<Arc<[TokenSource]>>,
    realm: Arc<str>,
    rejection: Arc<R>,
}

impl<R> Clone for AuthLayer<R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            mode: self.mode,
            token_sources: self.token_sources.clone(),
            realm: Arc::clone(&self.realm),
            rejection: Arc::clone(&self.rejection),
        }
    }
}

impl AuthLayer {
    /// Requires a valid bearer token on every request, with the default realm `api`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            mode: AuthMode::Required,
            token_sources: None,
            realm: Arc::from(crate::DEFAULT_REALM),
            rejection: Arc::new(DefaultRejection),
        }
    }
}

impl<R> AuthLayer<R> {
    /// Lets requests without credentials through as anonymous (use `Option<Claims>` in
    /// handlers); requests with invalid credentials are still refused.
    pub fn optional(mut self) -> Self {
        self.mode = AuthMode::Optional;
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
        self.token_sources = Some(sources.into_iter().collect());
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
            verifier: self.verifier,
            mode: self.mode,
            token_sources: self.token_sources,
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
        let (verifier, mode) = (&self.layer.verifier, self.layer.mode);
        let headers = request.headers();
        let query = request.uri().query();
        let sources = self.layer.token_sources.as_deref();
        let outcome = if sources.is_none() && !verifier.uses_dpop() {
            let values = headers.get_all(AUTHORIZATION).iter();
            verifier.authenticate_now(values.map(HeaderValue::as_bytes), query, mode)
        } else {
            // HTTP/2 requests carry scheme and authority in the URI, not in `Host`.
            let uri = request.uri();
            let absolute;
            let target = if uri.authority().is_some() {
                absolute = uri.to_string();
                absolute.as_str()
            } else {
                uri.path_and_query().map_or("/", |target| target.as_str())
            };
            verifier.authenticate_http_now(
                sources,
                |name| headers.get_all(name).iter().map(HeaderValue::as_bytes),
                request.method().as_str(),
                target,
                mode,
            )
        };
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
