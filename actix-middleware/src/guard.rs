//! What `#[requires_scope]` and `#[requires_claim]` expand to on actix-web handlers. Not
//! a public API.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use scopegate_core::{RouteCheck, VerifiedToken};

use crate::context::AuthContext;
use crate::extract::AuthRejection;

/// A handler's rule, implemented by a marker type the macro generates.
pub trait RouteRule {
    /// The rule, built once.
    fn rule() -> &'static dyn RouteCheck;
}

/// The extractor the macro puts first in a handler's arguments: checks the rule before any
/// other extractor runs (so no body is read for a refused request).
#[derive(Debug)]
pub struct RouteGuard<R>(PhantomData<fn() -> R>);

impl<R: RouteRule> FromRequest for RouteGuard<R> {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = request.extensions();
        let context = extensions.get::<AuthContext>();
        let result = R::rule()
            .authorize(extensions.get::<VerifiedToken>(), context.is_some())
            .map(|()| Self(PhantomData))
            .map_err(|error| AuthRejection::new(error, context));
        ready(result)
    }
}
