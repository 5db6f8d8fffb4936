//! What the middleware leaves in request extensions besides the token: that it ran, its
//! realm and its rejection hook, so later scope checks answer the same way.

use std::rc::Rc;

use actix_web::HttpResponse;
use scopegate_core::AuthError;

use crate::rejection::{DefaultRejection, Rejection};

/// Inserted into request extensions by the [`ScopeGate`](crate::ScopeGate) middleware.
#[derive(Clone)]
pub(crate) struct AuthContext {
    pub(crate) realm: Rc<str>,
    pub(crate) rejection: Rc<dyn Rejection>,
}

/// The response for `error`: through the middleware's hook when it ran, the default otherwise.
pub(crate) fn reject(context: Option<&AuthContext>, error: AuthError) -> HttpResponse {
    match context {
        Some(context) => context.rejection.reject(error, &context.realm),
        None => DefaultRejection.reject(error, crate::DEFAULT_REALM),
    }
}
