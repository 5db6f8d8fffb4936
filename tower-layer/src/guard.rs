//! What `#[requires_scope]` and `#[requires_claim]` expand to on axum handlers. Not a
//! public API.

use std::marker::PhantomData;

use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use http::request::Parts;
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

impl<S, R> FromRequestParts<S> for RouteGuard<R>
where
    S: Send + Sync,
    R: RouteRule,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = parts.extensions.get::<AuthContext<Body>>();
        R::rule()
            .authorize(parts.extensions.get::<VerifiedToken>(), context.is_some())
            .map(|()| Self(PhantomData))
            .map_err(|error| AuthRejection::new(error, context))
    }
}
