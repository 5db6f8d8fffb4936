//! What an adapter does with a request: the one decision both adapters translate.

use std::fmt;

use crate::error::AuthError;
use crate::token::VerifiedToken;
use crate::verifier::Verifier;

/// Whether a request without credentials may pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// No credentials: 401. The default.
    #[default]
    Required,
    /// No credentials: the request passes as anonymous. Invalid credentials are still
    /// rejected.
    Optional,
}

/// The outcome of [`Verifier::authenticate_now`].
#[derive(Debug)]
pub enum Outcome {
    /// A valid token: pass it to the handler.
    Authenticated(VerifiedToken),
    /// No credentials in [`AuthMode::Optional`]: pass the request on without a token.
    Anonymous,
    /// Refuse the request with this error's response.
    Rejected(AuthError),
    /// The issuer's keys must be fetched first: await [`PendingVerification::resolve`].
    /// Only remote key sources yield this, and only while the cache cannot answer.
    Pending(PendingVerification),
}

/// A verification waiting for the issuer's keys. Owns what it needs, so its future is
/// `'static` and `Send`.
pub struct PendingVerification {
    verifier: Verifier,
    token: String,
    presentation: Presentation,
}

impl PendingVerification {
    pub(crate) fn new(verifier: Verifier, token: String, presentation: Presentation) -> Self {
        Self {
            verifier,
            token,
            presentation,
        }
    }

    /// Waits for the keys (bounded by the key source's timeout) and finishes verifying.
    pub async fn resolve(self) -> Result<VerifiedToken, AuthError> {
        self.verifier
            .verify_after_fetch(&self.token, &self.presentation)
            .await
    }
}

/// How the token came: as a bearer token, or with the `DPoP` scheme and this proof.
#[derive(Debug, Clone)]
pub(crate) enum Presentation {
    /// `Bearer` (or a cookie or header source): a bound token is refused.
    Bearer,
    /// `DPoP`: the proof, the request method and the URL the proof must name.
    Dpop {
        proof: String,
        method: String,
        htu: String,
    },
}

impl fmt::Debug for PendingVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingVerification")
            .finish_non_exhaustive()
    }
}
