//! Why a request was refused, and how to say so (RFC 6750 §3).

use std::fmt;

use http::StatusCode;

use crate::requirement::Requirement;

/// What went wrong. Every kind maps to one status and one fixed description.
///
/// New kinds may be added; match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No `Authorization: Bearer` credentials (absent, or another scheme). 401, no error code.
    MissingCredentials,
    /// A malformed `Authorization` header, two of them, or a token in two places. 400.
    InvalidRequest,
    /// The token is longer than the configured cap. 401.
    TokenTooLarge,
    /// Not a well-formed compact JWS with JSON header and payload (bad base64url, bad
    /// JSON, duplicate member names, a JWE, ...). 401.
    MalformedToken,
    /// The header's `alg` is not in the configured allow-list (including `none`). 401.
    DisallowedAlgorithm,
    /// The header has a `crit` parameter; no extension is understood. 401.
    CriticalHeader,
    /// No key matches: unknown `kid`, or no single compatible key without a `kid`. 401.
    UnknownKey,
    /// The key named by `kid` does not fit the token's `alg` (type, curve, `use`, `alg`). 401.
    KeyMismatch,
    /// The signature does not verify. 401.
    InvalidSignature,
    /// `exp` is past (beyond the leeway). 401.
    Expired,
    /// `nbf` is in the future (beyond the leeway). 401.
    NotYetValid,
    /// `iat` is in the future (beyond the leeway). 401.
    IssuedInFuture,
    /// `iat` is older than the configured maximum token age. 401.
    TooOld,
    /// `iss` is not the configured issuer. 401.
    InvalidIssuer,
    /// `aud` names none of the configured audiences. 401.
    InvalidAudience,
    /// The header's `typ` is not accepted by the verification profile. 401.
    InvalidType,
    /// A claim the profile requires is missing. 401.
    MissingClaim,
    /// A registered claim has the wrong JSON type. 401.
    InvalidClaim,
    /// The token is sender-constrained (`cnf`) but was presented as a plain bearer token. 401.
    SenderConstrained,
    /// A configured custom claim rule failed. 401.
    ClaimRuleFailed,
    /// The token is valid but lacks the required scope. 403.
    InsufficientScope,
    /// The token is valid but fails a claim rule of the route (`RequireClaims`,
    /// `#[requires_claim]`). 403 `insufficient_scope`, without a `scope` attribute.
    ClaimNotGranted,
    /// The token is valid but no rule grants access to the route or method at all (an
    /// unlisted gRPC method, a proxy path outside every route): closed by default. 403
    /// `insufficient_scope`, without a `scope` attribute.
    RouteNotPermitted,
    /// The issuer's keys cannot be obtained and none are cached. 503 with `Retry-After`.
    KeysUnavailable,
    /// A DPoP proof is missing, malformed, wrongly signed, or does not fit the request or
    /// the token (RFC 9449 §4.3). 401 `invalid_dpop_proof`.
    InvalidDpopProof,
    /// A DPoP proof whose `jti` was used before (RFC 9449 §11.1). 401 `invalid_dpop_proof`.
    DpopProofReplayed,
}

impl ErrorKind {
    /// A stable snake_case name, used as the `reason` of audit events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidRequest => "invalid_request",
            Self::TokenTooLarge => "token_too_large",
            Self::MalformedToken => "malformed_token",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::CriticalHeader => "critical_header",
            Self::UnknownKey => "unknown_key",
            Self::KeyMismatch => "key_mismatch",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::TooOld => "too_old",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidType => "invalid_type",
            Self::MissingClaim => "missing_claim",
            Self::InvalidClaim => "invalid_claim",
            Self::SenderConstrained => "sender_constrained",
            Self::ClaimRuleFailed => "claim_rule_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::ClaimNotGranted => "claim_not_granted",
            Self::RouteNotPermitted => "route_not_permitted",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::DpopProofReplayed => "dpop_proof_replayed",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }

    /// The HTTP status of the response.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InsufficientScope | Self::ClaimNotGranted | Self::RouteNotPermitted => {
                StatusCode::FORBIDDEN
            }
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 `error` code, if the response carries one.
    pub const fn error_code(self) -> Option<&'static str> {
        match self {
            Self::MissingCredentials | Self::KeysUnavailable => None,
            Self::InvalidRequest => Some("invalid_request"),
            Self::InsufficientScope | Self::ClaimNotGranted | Self::RouteNotPermitted => {
                Some("insufficient_scope")
            }
            Self::InvalidDpopProof | Self::DpopProofReplayed => Some("invalid_dpop_proof"),
            _ => Some("invalid_token"),
        }
    }

    /// A fixed description; never contains anything from the request.
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingCredentials => "Bearer access token required",
            Self::InvalidRequest => "Malformed bearer credentials",
            Self::TokenTooLarge => "The access token is too large",
            Self::MalformedToken => "The access token is malformed",
            Self::DisallowedAlgorithm => "The access token algorithm is not allowed",
            Self::CriticalHeader => "The access token has an unsupported critical header",
            Self::UnknownKey => "The access token signing key is unknown",
            Self::KeyMismatch => "The access token signing key does not match its algorithm",
            Self::InvalidSignature => "The access token signature is invalid",
            Self::Expired => "The access token expired",
            Self::NotYetValid => "The access token is not valid yet",
            Self::IssuedInFuture => "The access token was issued in the future",
            Self::TooOld => "The access token is too old",
            Self::InvalidIssuer => "The access token issuer is not accepted",
            Self::InvalidAudience => "The access token audience is not accepted",
            Self::InvalidType => "The access token type is not accepted",
            Self::MissingClaim => "The access token lacks a required claim",
            Self::InvalidClaim => "The access token has a claim of the wrong type",
            Self::SenderConstrained => "The access token is sender-constrained",
            Self::ClaimRuleFailed => "The access token claims are not accepted",
            Self::InsufficientScope => "The access token lacks the required scope",
            Self::ClaimNotGranted => "The access token lacks a claim this route requires",
            Self::RouteNotPermitted => "No rule grants access to this route",
            Self::InvalidDpopProof => "The DPoP proof is invalid",
            Self::DpopProofReplayed => "The DPoP proof was used before",
            Self::KeysUnavailable => "The token signing keys are unavailable",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused: the one error type of scopegate.
///
/// Opaque on purpose: read it through [`kind`](Self::kind), [`status`](Self::status),
/// [`error_code`](Self::error_code), [`description`](Self::description) and
/// [`challenge`](Self::challenge). Nothing from the token is ever echoed.
///
/// ```
/// use scopegate_core::{AuthError, ErrorKind, Requirement};
///
/// let err = AuthError::insufficient_scope(Requirement::all(["write:products"])?);
/// assert_eq!(err.status().as_u16(), 403);
/// assert_eq!(
///     err.challenge("api").as_deref(),
///     Some(r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="write:products""#),
/// );
/// # Ok::<(), scopegate_core::ScopeError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthError {
    kind: ErrorKind,
    required: Option<Requirement>,
    retry_after_secs: Option<u64>,
    /// Keys unavailable, answered as 401 `invalid_token` by configuration.
    unavailable_as_invalid_token: bool,
    /// How to challenge when the verifier accepts DPoP.
    dpop: Option<DpopChallenge>,
}

/// The DPoP part of a challenge (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DpopChallenge {
    /// `algs="..."`.
    pub(crate) algs: std::sync::Arc<str>,
    /// Only `DPoP` is accepted: no `Bearer` challenge.
    pub(crate) required: bool,
    /// The credentials came with the `DPoP` scheme: the error belongs to that challenge.
    pub(crate) presented: bool,
}

impl AuthError {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            required: None,
            retry_after_secs: None,
            unavailable_as_invalid_token: false,
            dpop: None,
        }
    }

    /// A 403 for a valid token that does not satisfy `required`.
    pub fn insufficient_scope(required: Requirement) -> Self {
        Self {
            required: Some(required),
            ..Self::new(ErrorKind::InsufficientScope)
        }
    }

    /// A 503: the signing keys cannot be obtained; the client may retry after `secs`.
    pub fn keys_unavailable(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(ErrorKind::KeysUnavailable)
        }
    }

    /// Answers [`ErrorKind::KeysUnavailable`] as 401 `invalid_token` (no `Retry-After`).
    pub(crate) fn unavailable_as_invalid_token(mut self) -> Self {
        if self.kind == ErrorKind::KeysUnavailable {
            self.unavailable_as_invalid_token = true;
            self.retry_after_secs = None;
        }
        self
    }

    /// Challenges with `DPoP` (beside `Bearer` unless DPoP is required).
    pub(crate) fn with_dpop_challenge(mut self, challenge: Option<DpopChallenge>) -> Self {
        self.dpop = challenge;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        if self.unavailable_as_invalid_token {
            return StatusCode::UNAUTHORIZED;
        }
        self.kind.status()
    }

    /// The RFC 6750 `error` code, if any.
    pub fn error_code(&self) -> Option<&'static str> {
        if self.unavailable_as_invalid_token {
            return Some("invalid_token");
        }
        self.kind.error_code()
    }

    /// A fixed, human-readable description.
    pub fn description(&self) -> &'static str {
        self.kind.description()
    }

    /// The requirement that was not met, for [`ErrorKind::InsufficientScope`].
    pub fn required(&self) -> Option<&Requirement> {
        self.required.as_ref()
    }

    /// Seconds for a `Retry-After` header, for [`ErrorKind::KeysUnavailable`].
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// The `WWW-Authenticate` value for this error (RFC 6750 §3), or `None` when the
    /// response carries no challenge (503: the problem is ours, not the client's).
    ///
    /// `realm` is written as a quoted-string, with `"` and `\` escaped.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        if self.kind == ErrorKind::KeysUnavailable && !self.unavailable_as_invalid_token {
            return None;
        }
        let mut value = String::with_capacity(96);
        match &self.dpop {
            None => self.push_challenge(&mut value, "Bearer", realm, None, true),
            Some(dpop) if dpop.required => {
                self.push_challenge(&mut value, "DPoP", realm, Some(&dpop.algs), true);
            }
            Some(dpop) => {
                self.push_challenge(&mut value, "Bearer", realm, None, !dpop.presented);
                value.push_str(", ");
                self.push_challenge(&mut value, "DPoP", realm, Some(&dpop.algs), dpop.presented);
            }
        }
        Some(value)
    }

    /// One challenge: scheme, realm, `algs` for DPoP, and this error's attributes when
    /// `with_error`.
    fn push_challenge(
        &self,
        value: &mut String,
        scheme: &str,
        realm: &str,
        algs: Option<&str>,
        with_error: bool,
    ) {
        value.push_str(scheme);
        value.push_str(" realm=\"");
        push_escaped(value, realm);
        value.push('"');
        if let Some(algs) = algs {
            // Algorithm names are fixed ASCII tokens.
            value.push_str(", algs=\"");
            value.push_str(algs);
            value.push('"');
        }
        if !with_error {
            return;
        }
        if let Some(code) = self.error_code() {
            value.push_str(", error=\"");
            value.push_str(code);
            value.push_str("\", error_description=\"");
            value.push_str(self.description());
            value.push('"');
        }
        if let Some(required) = &self.required {
            // Scope tokens never contain `"` or `\` (RFC 6749 §3.3), so no escaping is needed.
            value.push_str(", scope=\"");
            value.push_str(&required.to_string());
            value.push('"');
        }
    }
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

impl From<ErrorKind> for AuthError {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AuthError");
        d.field("kind", &self.kind);
        if let Some(required) = &self.required {
            d.field("required", required);
        }
        d.finish()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_has_no_error_code() {
        let err = AuthError::new(ErrorKind::MissingCredentials);
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            err.challenge("api").as_deref(),
            Some(r#"Bearer realm="api""#)
        );
    }

    #[test]
    fn invalid_request_is_400() {
        let err = AuthError::new(ErrorKind::InvalidRequest);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            err.challenge("api").as_deref(),
            Some(
                r#"Bearer realm="api", error="invalid_request", error_description="Malformed bearer credentials""#
            )
        );
    }

    #[test]
    fn token_failures_are_401_invalid_token() {
        for kind in [
            ErrorKind::Expired,
            ErrorKind::InvalidSignature,
            ErrorKind::UnknownKey,
            ErrorKind::MalformedToken,
        ] {
            let err = AuthError::new(kind);
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(err.error_code(), Some("invalid_token"));
            assert!(
                err.challenge("api")
                    .unwrap_or_default()
                    .contains(r#"error="invalid_token""#)
            );
        }
    }

    #[test]
    fn keys_unavailable_is_503_with_retry_after_and_no_challenge() {
        let err = AuthError::keys_unavailable(30);
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.retry_after_secs(), Some(30));
        assert_eq!(err.challenge("api"), None);
    }

    #[test]
    fn realm_is_escaped() {
        let err = AuthError::new(ErrorKind::MissingCredentials);
        assert_eq!(
            err.challenge("a\"b\\c\r\n").as_deref(),
            Some(r#"Bearer realm="a\"b\\c""#)
        );
    }
}
