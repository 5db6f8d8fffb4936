//! actix-web extractors: `Claims`, `Claims<T>` and `OptionalClaims<T>`.

use std::cell::Cell;
use std::fmt;
use std::future::{Ready, ready};
use std::ops::Deref;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use scopegate_core::{AuthError, ErrorKind, NoCustomClaims, TokenClaims, VerifiedToken};
use serde::de::DeserializeOwned;

use crate::context::{AuthContext, reject};
use crate::swallowed::RecordedRefusal;

/// The verified token of the request: standard claims, granted scopes and raw claims
/// (through `Deref` to [`TokenClaims`] and [`VerifiedToken`]), plus your own claim struct
/// `T` via [`custom`](TokenClaims::custom).
///
/// Requires [`ScopeGate`](crate::ScopeGate); without it the request is refused (401) and a
/// warning is logged. For optional authentication use [`OptionalClaims`]: actix-web's own
/// `Option<Claims>` turns every refusal into `None` before scopegate can answer it. Behind
/// `ScopeGate`, such a swallowed refusal (a token whose claims do not fit `T`) is still
/// answered with the refusal once the handler returns; without `ScopeGate` nothing can
/// answer it, so `Option<Claims>` there is always `None`.
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
    /// Set when a response carries this refusal (see [`RecordedRefusal`]).
    answered: Option<Rc<Cell<bool>>>,
}

impl AuthRejection {
    pub(crate) fn new(error: AuthError, context: Option<&AuthContext>) -> Self {
        Self {
            error,
            context: context.cloned(),
            answered: None,
        }
    }

    /// A refusal of the request's `Claims` extraction, recorded in the request so that
    /// the middleware answers it if actix-web's `Option<T>` swallows it.
    fn recorded(request: &HttpRequest, error: AuthError, context: Option<&AuthContext>) -> Self {
        let answered = Rc::new(Cell::new(false));
        request.extensions_mut().insert(RecordedRefusal {
            error: error.clone(),
            answered: Rc::clone(&answered),
        });
        Self {
            answered: Some(answered),
            ..Self::new(error, context)
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
        if let Some(answered) = &self.answered {
            answered.set(true);
        }
        reject(self.context.as_ref(), self.error.clone())
    }
}

fn missing_gate() {
    tracing::warn!(
        target: "scopegate",
        "Claims extractor found no verified token: the authentication layer is missing \
         (add ScopeGate in front of this route); request refused"
    );
}

/// The verified token's claims; `Ok(None)` when the request has none.
fn claims_of<T: DeserializeOwned>(request: &HttpRequest) -> Result<Option<Claims<T>>, AuthError> {
    let extensions = request.extensions();
    match extensions.get::<VerifiedToken>() {
        Some(token) => TokenClaims::from_token(token.clone()).map(|claims| Some(Claims(claims))),
        None => Ok(None),
    }
}

fn has_gate(request: &HttpRequest) -> bool {
    request.extensions().get::<AuthContext>().is_some()
}

fn refusal(request: &HttpRequest, error: AuthError, recorded: bool) -> AuthRejection {
    let context = request.extensions().get::<AuthContext>().cloned();
    if recorded {
        AuthRejection::recorded(request, error, context.as_ref())
    } else {
        AuthRejection::new(error, context.as_ref())
    }
}

impl<T: DeserializeOwned> FromRequest for Claims<T> {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let result = match claims_of(request) {
            Ok(Some(claims)) => Ok(claims),
            Ok(None) => {
                if !has_gate(request) {
                    missing_gate();
                }
                Err(refusal(
                    request,
                    ErrorKind::MissingCredentials.into(),
                    false,
                ))
            }
            Err(error) => Err(refusal(request, error, true)),
        };
        ready(result)
    }
}

/// Optional authentication that fails closed: `None` only for a request without
/// credentials behind [`ScopeGate::optional`](crate::ScopeGate::optional). Without
/// `ScopeGate` the request is refused (401, with a warning), and a token whose claims do
/// not fit `T` is refused, never treated as anonymous: the same rules as axum's
/// `Option<Claims<T>>` in `scopegate-tower`.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use scopegate_actix::{OptionalClaims, ScopeGate};
/// # let verifier = scopegate_core::test_util::TestIssuer::new().verifier().unwrap();
///
/// async fn greeting(claims: OptionalClaims) -> HttpResponse {
///     match claims.as_ref().and_then(|claims| claims.subject()) {
///         Some(sub) => HttpResponse::Ok().body(format!("hello {sub}")),
///         None => HttpResponse::Ok().body("hello stranger"),
///     }
/// }
///
/// let app = App::new()
///     .wrap(ScopeGate::new(verifier).optional())
///     .route("/api/greeting", web::get().to(greeting));
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
pub struct OptionalClaims<T = NoCustomClaims>(pub Option<Claims<T>>);

impl<T> OptionalClaims<T> {
    /// The claims, `None` for an anonymous request.
    pub fn into_inner(self) -> Option<Claims<T>> {
        self.0
    }
}

impl<T> Deref for OptionalClaims<T> {
    type Target = Option<Claims<T>>;

    fn deref(&self) -> &Option<Claims<T>> {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for OptionalClaims<T> {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let result = match claims_of(request) {
            Ok(Some(claims)) => Ok(Self(Some(claims))),
            Ok(None) if has_gate(request) => Ok(Self(None)),
            Ok(None) => {
                missing_gate();
                Err(refusal(
                    request,
                    ErrorKind::MissingCredentials.into(),
                    false,
                ))
            }
            Err(error) => Err(refusal(request, error, false)),
        };
        ready(result)
    }
}
