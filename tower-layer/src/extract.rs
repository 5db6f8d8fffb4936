//! axum extractors: `Claims`, `Claims<T>` and `Option<Claims>`.

use std::ops::Deref;

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use scopegate_core::{AuthError, ErrorKind, NoCustomClaims, TokenClaims, VerifiedToken};
use serde::de::DeserializeOwned;

use crate::context::{AuthContext, reject};

/// The verified token of the request: standard claims, granted scopes and raw claims
/// (through `Deref` to [`TokenClaims`] and [`VerifiedToken`]), plus your own claim struct
/// `T` via [`custom`](TokenClaims::custom) (e.g. Auth0 Actions' namespaced claims).
///
/// Requires [`AuthLayer`](crate::AuthLayer) on the route; without it the request is refused
/// (401) and a warning is logged. `Option<Claims>` is `None` for anonymous requests behind
/// an [`optional`](crate::AuthLayer::optional) layer.
///
/// ```
/// use scopegate_tower::Claims;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Retail {
///     #[serde(rename = "https://retail.example/tier")]
///     tier: String,
/// }
///
/// async fn handler(claims: Claims<Retail>) -> String {
///     format!("{} ({})", claims.subject().unwrap_or("machine"), claims.custom().tier)
/// }
/// # let _ = handler;
/// ```
#[derive(Debug, Clone)]
pub struct Claims<T = NoCustomClaims>(pub TokenClaims<T>);

impl<T> Deref for Claims<T> {
    type Target = TokenClaims<T>;

    fn deref(&self) -> &TokenClaims<T> {
        &self.0
    }
}

/// Why [`Claims`] (or the `#[requires_scope]` guard) refused a request. Answers with the
/// auth layer's rejection hook, or the RFC 6750 default.
#[derive(Clone)]
pub struct AuthRejection {
    error: AuthError,
    context: Option<AuthContext<Body>>,
}

impl AuthRejection {
    pub(crate) fn new(error: AuthError, context: Option<&AuthContext<Body>>) -> Self {
        Self {
            error,
            context: context.cloned(),
        }
    }

    /// The underlying error.
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The status of the default response.
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }
}

impl std::fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRejection")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        reject(self.context.as_ref(), self.error)
    }
}

fn claims_from<T: DeserializeOwned>(
    token: VerifiedToken,
    context: Option<&AuthContext<Body>>,
) -> Result<Claims<T>, AuthRejection> {
    TokenClaims::from_token(token)
        .map(Claims)
        .map_err(|error| AuthRejection::new(error, context))
}

fn missing_layer() {
    tracing::warn!(
        target: "scopegate",
        "Claims extractor found no verified token: the authentication layer is missing \
         (add AuthLayer in front of this route); request refused"
    );
}

impl<S, T> FromRequestParts<S> for Claims<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = parts.extensions.get::<AuthContext<Body>>();
        match parts.extensions.get::<VerifiedToken>() {
            Some(token) => claims_from(token.clone(), context),
            None => {
                if context.is_none() {
                    missing_layer();
                }
                Err(AuthRejection::new(
                    ErrorKind::MissingCredentials.into(),
                    context,
                ))
            }
        }
    }
}

impl<S, T> OptionalFromRequestParts<S> for Claims<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let context = parts.extensions.get::<AuthContext<Body>>();
        match (parts.extensions.get::<VerifiedToken>(), context) {
            (Some(token), _) => claims_from(token.clone(), context).map(Some),
            (None, Some(_)) => Ok(None),
            (None, None) => {
                missing_layer();
                Err(AuthRejection::new(
                    ErrorKind::MissingCredentials.into(),
                    None,
                ))
            }
        }
    }
}
