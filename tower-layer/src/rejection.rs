//! How a refused request is answered: one hook, with the RFC 6750 default.

use http::Response;
use scopegate_core::AuthError;

/// Turns an [`AuthError`] into a response. Implemented for [`DefaultRejection`] and for
/// every closure `Fn(AuthError) -> Response<B>`, so a custom body is one closure:
///
/// ```
/// use axum::{body::Body, http::Response};
/// use scopegate_tower::{AuthError, AuthLayer};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let layer = AuthLayer::new(verifier).rejection(|error: AuthError| {
///     let mut response = error.to_response::<Body>("orders-api");
///     *response.body_mut() = Body::from(format!("denied: {}", error.description()));
///     response
/// });
/// # let _ = layer;
/// ```
pub trait Rejection<B>: Send + Sync + 'static {
    /// The response for `error`; `realm` is the layer's realm.
    fn reject(&self, error: AuthError, realm: &str) -> Response<B>;
}

/// The default answer: the RFC 6750 status and `WWW-Authenticate` challenge,
/// `Retry-After` on 503, and a small JSON body `{"error", "error_description"}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRejection;

impl<B: From<String>> Rejection<B> for DefaultRejection {
    fn reject(&self, error: AuthError, realm: &str) -> Response<B> {
        error.to_response(realm)
    }
}

impl<B, F> Rejection<B> for F
where
    F: Fn(AuthError) -> Response<B> + Send + Sync + 'static,
{
    fn reject(&self, error: AuthError, _realm: &str) -> Response<B> {
        self(error)
    }
}
