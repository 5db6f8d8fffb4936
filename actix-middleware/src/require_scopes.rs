//! Scope rules for a scope or resource, without macros.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use scopegate_core::{Requirement, VerifiedToken};

use crate::context::{AuthContext, reject};
use crate::future::GateFuture;

/// Requires scopes on a scope or resource: 403 `insufficient_scope` (with `scope="..."`)
/// when the verified token lacks them. Wrap it inside [`ScopeGate`](crate::ScopeGate);
/// without a verified token it fails closed with 401 and logs that the auth middleware is
/// missing.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use scopegate_actix::{RequireScopes, ScopeGate};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let app = App::new().wrap(ScopeGate::new(verifier)).service(
///     web::resource("/api/products")
///         .wrap(RequireScopes::all(["write:products"]))
///         .route(web::post().to(HttpResponse::Created)),
/// );
/// # let _ = app;
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
    /// mistake, caught when the app is built.
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

impl<S, B> Transform<S, ServiceRequest> for RequireScopes
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireScopesMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireScopesMiddleware {
            service: Rc::new(service),
            requirement: self.requirement.clone(),
        }))
    }
}

/// The service made by [`RequireScopes`].
#[doc(hidden)]
pub struct RequireScopesMiddleware<S> {
    service: Rc<S>,
    requirement: Requirement,
}

impl<S, B> Service<ServiceRequest> for RequireScopesMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = GateFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let (decision, context) = {
            let extensions = request.extensions();
            let context = extensions.get::<AuthContext>().cloned();
            let decision = self
                .requirement
                .authorize(extensions.get::<VerifiedToken>(), context.is_some());
            (decision, context)
        };
        match decision {
            Ok(()) => GateFuture::inner(self.service.call(request)),
            Err(error) => {
                let response = reject(context.as_ref(), error);
                GateFuture::rejected(request.into_response(response).map_into_right_body())
            }
        }
    }
}

impl<S> std::fmt::Debug for RequireScopesMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireScopesMiddleware")
            .finish_non_exhaustive()
    }
}
