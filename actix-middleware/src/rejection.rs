//! How a refused request is answered: one hook, with the RFC 6750 default.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use scopegate_core::AuthError;

/// Turns an [`AuthError`] into a response. Implemented for [`DefaultRejection`] and for
/// every closure `Fn(AuthError) -> HttpResponse`.
///
/// ```
/// use actix_web::HttpResponse;
/// use scopegate_actix::{AuthError, ScopeGate};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// let gate = ScopeGate::new(verifier).rejection(|error: AuthError| {
///     HttpResponse::build(actix_web::http::StatusCode::from_u16(error.status().as_u16()).unwrap())
///         .body(format!("denied: {}", error.description()))
/// });
/// # let _ = gate;
/// ```
pub trait Rejection: 'static {
    /// The response for `error`; `realm` is the middleware's realm.
    fn reject(&self, error: AuthError, realm: &str) -> HttpResponse;
}

/// The default answer: the RFC 6750 status and `WWW-Authenticate` challenge,
/// `Retry-After` on 503, and a small JSON body `{"error", "error_description"}`: the same
/// response `scopegate-tower` gives.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRejection;

impl Rejection for DefaultRejection {
    fn reject(&self, error: AuthError, realm: &str) -> HttpResponse {
        // Statuses come from core and are always valid; fail closed with 401 regardless.
        let status =
            StatusCode::from_u16(error.status().as_u16()).unwrap_or(StatusCode::UNAUTHORIZED);
        let mut response = HttpResponse::build(status);
        response.insert_header((CONTENT_TYPE, "application/json"));
        response.insert_header((CACHE_CONTROL, "no-store"));
        if let Some(challenge) = error.challenge(realm) {
            response.insert_header((WWW_AUTHENTICATE, challenge));
        }
        if let Some(secs) = error.retry_after_secs() {
            response.insert_header((RETRY_AFTER, secs.to_string()));
        }
        response.body(error.json_body())
    }
}

impl<F> Rejection for F
where
    F: Fn(AuthError) -> HttpResponse + 'static,
{
    fn reject(&self, error: AuthError, _realm: &str) -> HttpResponse {
        self(error)
    }
}
