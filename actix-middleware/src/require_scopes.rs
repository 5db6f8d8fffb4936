//! Scope rules for a scope or resource, without macros.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use scopegate_core::Requirement;

use crate::route_check::RouteCheckMiddleware;

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
        ready(Ok(RouteCheckMiddleware::new(
            service,
            self.requirement.clone(),
        )))
    }
}

/// The service made by [`RequireScopes`].
pub type RequireScopesMiddleware<S> = RouteCheckMiddleware<S, Requirement>;
