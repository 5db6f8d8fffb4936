//! What the auth layer leaves in request extensions besides the token: that it ran, its
//! realm and its rejection hook, so later scope checks answer the same way.

use std::sync::Arc;

use http::Response;
use scopegate_core::AuthError;

use crate::rejection::{DefaultRejection, Rejection};

/// Inserted into request extensions by [`Auth`](crate::Auth) for every request it passes.
pub(crate) struct AuthContext<B> {
    pub(crate) realm: Arc<str>,
    pub(crate) rejection: Arc<dyn Rejection<B>>,
}

impl<B> Clone for AuthContext<B> {
    fn clone(&self) -> Self {
        Self {
            realm: Arc::clone(&self.realm),
            rejection: Arc::clone(&self.rejection),
        }
    }
}

/// The response for `error`: through the auth layer's hook when it ran, the default otherwise.
pub(crate) fn reject<B: From<String> + 'static>(
    context: Option<&AuthContext<B>>,
    error: AuthError,
) -> Response<B> {
    match context {
        Some(context) => context.rejection.reject(error, &context.realm),
        None => DefaultRejection.reject(error, crate::DEFAULT_REALM),
    }
}
