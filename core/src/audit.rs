//! Audit events: one `tracing` event per decision, on target `scopegate::audit`.
//!
//! Fields: `decision` (`allow`/`deny`), `reason`, and for verified tokens `sub`,
//! `client_id`, `granted` and, for scope checks, `required`. The token itself is never
//! logged, nor any claim of a token that failed verification.

use crate::error::ErrorKind;
use crate::requirement::Requirement;
use crate::token::VerifiedToken;

/// The `tracing` target of audit events.
pub const TARGET: &str = "scopegate::audit";

pub(crate) fn token_rejected(kind: ErrorKind) {
    tracing::info!(target: TARGET, decision = "deny", reason = kind.as_str(), "access token rejected");
}

pub(crate) fn anonymous() {
    tracing::info!(target: TARGET, decision = "allow", reason = "anonymous", "request without credentials passed as anonymous");
}

pub(crate) fn token_accepted(token: &VerifiedToken) {
    tracing::info!(
        target: TARGET,
        decision = "allow",
        reason = "valid_token",
        sub = token.subject(),
        client_id = token.client_id(),
        granted = %token.scopes(),
        "access token accepted"
    );
}

pub(crate) fn scope_decision(token: &VerifiedToken, required: &Requirement, allowed: bool) {
    let (decision, reason) = if allowed {
        ("allow", "scope_granted")
    } else {
        ("deny", ErrorKind::InsufficientScope.as_str())
    };
    tracing::info!(
        target: TARGET,
        decision,
        reason,
        sub = token.subject(),
        client_id = token.client_id(),
        required = %required,
        granted = %token.scopes(),
        "scope check"
    );
}
