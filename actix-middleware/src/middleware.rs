//! The authentication middleware: verify the bearer token, or answer per RFC 6750.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use scopegate_core::{Authenticator, Outcome, TokenSource, Verifier};

use crate::context::AuthContext;
use crate::future::GateFuture;
use crate::rejection::{DefaultRejection, Rejection};
use crate::request_view::ActixRequest;
use crate::swallowed::answer_swallowed;

/// Verifies the bearer token of every request and puts the
/// [`VerifiedToken`](scopegate_core::VerifiedToken) in its extensions, or answers with the
/// RFC 6750 rejection (401 / 400 / 503). Works with `App::wrap`, `Scope::wrap` and
/// `Resource::wrap`; rejections are ordinary responses, so outer middleware (CORS,
/// logger) sees them.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use scopegate_actix::{Claims, ScopeGate};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// async fn private(claims: Claims) -> HttpResponse {
///     HttpResponse::Ok().body(format!("hello {}", claims.subject().unwrap_or("machine")))
/// }
///
/// let app = App::new()
///     .wrap(ScopeGate::new(verifier))
///     .route("/api/private", web::get().to(private));
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct ScopeGate {
    authenticator: Authenticator,
    realm: Arc<str>,
    rejection: Rc<dyn Rejection>,
}

impl ScopeGate {
    /// Requires a valid bearer token on every request, with the default realm `api`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            authenticator: Authenticator::new(verifier),
            realm: Arc::from(crate::DEFAULT_REALM),
            rejection: Rc::new(DefaultRejection),
        }
    }

    /// Lets requests without credentials through as anonymous (use `Option<Claims>` in
    /// handlers); requests with invalid credentials are still refused.
    pub fn optional(mut self) -> Self {
        self.authenticator = self.authenticator.optional();
        self
    }

    /// Where this middleware reads the token, tried in order, the first source holding
    /// credentials winning (see [`TokenSource::find`]). Default: the `Authorization`
    /// header only.
    ///
    /// ```
    /// use scopegate_actix::{ScopeGate, TokenSource};
    /// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
    ///
    /// // A browser app's cookie, or a bearer header from API clients.
    /// let gate = ScopeGate::new(verifier)
    ///     .token_sources([TokenSource::Authorization, TokenSource::cookie("access_token")]);
    /// # let _ = gate;
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
    /// extractors and `#[requires_scope]` behind this middleware.
    pub fn rejection(mut self, rejection: impl Rejection) -> Self {
        self.rejection = Rc::new(rejection);
        self
    }
}

impl std::fmt::Debug for ScopeGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeGate")
            .field("authenticator", &self.authenticator)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<S, B> Transform<S, ServiceRequest> for ScopeGate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ScopeGateMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ScopeGateMiddleware {
            service: Rc::new(service),
            authenticator: self.authenticator.clone(),
            context: AuthContext {
                realm: Rc::from(&*self.realm),
                rejection: Rc::clone(&self.rejection),
            },
        }))
    }
}

/// The service made by [`ScopeGate`].
#[doc(hidden)]
pub struct ScopeGateMiddleware<S> {
    service: Rc<S>,
    authenticator: Authenticator,
    context: AuthContext,
}

impl<S, B> Service<ServiceRequest> for ScopeGateMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = GateFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let outcome = self.authenticator.authenticate(&ActixRequest(&request));
        let context = self.context.clone();
        match outcome {
            Outcome::Authenticated(token) => {
                request.extensions_mut().insert(token);
                request.extensions_mut().insert(context);
                GateFuture::inner(self.service.call(request))
            }
            Outcome::Anonymous => {
                request.extensions_mut().insert(context);
                GateFuture::inner(self.service.call(request))
            }
            Outcome::Rejected(error) => {
                let response = context.rejection.reject(error, &context.realm);
                GateFuture::rejected(request.into_response(response).map_into_right_body())
            }
            Outcome::Pending(pending) => {
                let service = Rc::clone(&self.service);
                GateFuture::verifying(Box::pin(async move {
                    match pending.resolve().await {
                        Ok(token) => {
                            request.extensions_mut().insert(token);
                            request.extensions_mut().insert(context);
                            service.call(request).await.map(answer_swallowed)
                        }
                        Err(error) => {
                            let response = context.rejection.reject(error, &context.realm);
                            Ok(request.into_response(response).map_into_right_body())
                        }
                    }
                }))
            }
        }
    }
}

impl<S> std::fmt::Debug for ScopeGateMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeGateMiddleware")
            .finish_non_exhaustive()
    }
}
