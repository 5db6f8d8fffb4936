//! actix-web extractors: `Claims` and `Claims<T>`.

use std::fmt;
use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use scopegate_core::{AuthError, ErrorKind, NoCustomClaims, TokenClaims, VerifiedToken};
use serde::de::DeserializeOwned;

use crate::context::{AuthContext, reject};

/// The verified token of the request: standard claims, granted scopes and raw claims
/// (through `Deref` to [`TokenClaims`] and [`VerifiedToken`]), plus your own claim struct
/// `T` via [`custom`](TokenClaims::custom).
///
/// Requires [`ScopeGate`](crate::ScopeGate); without it the request is refused (401) and a
/// warning is logged. `Option<Claims>` is `None` when the request has no verified token
/// (anonymous behind an [`optional`](crate::ScopeGate::optional) gate).
#[derive(Debug, Clone)]
pub struct Claims<T = NoCustomClaims>(pub TokenClaims<T>);

impl<T> Deref for Claims<T> {
    type Target = TokenClaims<T>;

    fn deref(&self) -> &TokenClaims<T> {
        &self.0
    }
}

/// Why [`Claims`] (or the `#[requires_scope]` guard) refused a request. Answers with the
/// middleware's rejection hook, or the RFC 6750 default.
#[derive(Clone)]
pub struct AuthRejection {
    error: AuthError,
    context: Option<AuthContext>,
}

impl AuthRejection {
    pub(crate) fn new(error: AuthError, context: Option<&AuthContext>) -> Self {
        Self {
            error,
            context: context.cloned(),
        }
    }

    /// The underlying error.
    pub fn error(&self) -> &AuthError {
        &self.error
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status().as_u16()).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        reject(self.context.as_ref(), self.error.clone())
    }
}

impl<T: DeserializeOwned> FromRequest for Claims<T> {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = request.extensions();
        let context = extensions.get::<AuthContext>();
        let result = match extensions.get::<VerifiedToken>() {
            Some(token) => TokenClaims::from_token(token.clone())
                .map(Claims)
                .map_err(|error| AuthRejection::new(error, context)),
            None => {
                if context.is_none() {
                    tracing::warn!(
                        target: "scopegate",
                        "Claims extractor found no verified token: the authentication layer is missing \
                         (add ScopeGate in front of this route); request refused"
                    );
                }
                Err(AuthRejection::new(
                    ErrorKind::MissingCredentials.into(),
                    context,
                ))
            }
        };
        ready(result)
    }
}
