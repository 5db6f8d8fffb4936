//! Claim rules for a scope or resource, without macros.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use scopegate_core::ClaimRule;
use serde_json::Value;

use crate::route_check::RouteCheckMiddleware;

/// Requires a claim rule on a scope or resource: 403 `insufficient_scope` ("The access
/// token lacks a claim this route requires") when the verified token fails it. The rules
/// of Auth0's `claimEquals`, `claimIncludes` and `claimCheck`, per route; wrap it inside
/// [`ScopeGate`](crate::ScopeGate). Without a verified token it fails closed with 401.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use scopegate_actix::{RequireClaims, ScopeGate};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let app = App::new().wrap(ScopeGate::new(verifier)).service(
///     web::resource("/api/billing")
///         .wrap(RequireClaims::includes("https://retail.example/roles", ["billing"]))
///         .route(web::get().to(HttpResponse::Ok)),
/// );
/// # let _ = app;
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

impl<S, B> Transform<S, ServiceRequest> for RequireClaims
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RouteCheckMiddleware<S, ClaimRule>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RouteCheckMiddleware::new(service, self.rule.clone())))
    }
}
