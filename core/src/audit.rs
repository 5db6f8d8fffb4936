//! Audit events: one `tracing` event per decision, on target `scopegate::audit`.
//!
//! Fields: `decision` (`allow`/`deny`), `reason`, and for verified tokens `sub`,
//! `client_id`, `granted` and, for scope checks, `required`. The token itself is never
//! logged, nor any claim of a token that failed verification.
//!
//! Denials are `INFO` events, allows `DEBUG`: a subscriber at the usual `info` level keeps
//! every refusal and writes nothing on the hot path of an accepted request (formatting and
//! writing two lines per request halves an axum server's throughput). Set
//! `RUST_LOG=scopegate::audit=debug` (or an equivalent filter) to record allows too.

use crate::claim_rule::ClaimRule;
use crate::error::ErrorKind;
use crate::requirement::Requirement;
use crate::token::VerifiedToken;

/// The `tracing` target of audit events.
pub const TARGET: &str = "scopegate::audit";

pub(crate) fn token_rejected(kind: ErrorKind) {
    tracing::info!(target: TARGET, decision = "deny", reason = kind.as_str(), "access token rejected");
}

pub(crate) fn anonymous() {
    tracing::debug!(target: TARGET, decision = "allow", reason = "anonymous", "request without credentials passed as anonymous");
}

pub(crate) fn token_accepted(token: &VerifiedToken) {
    tracing::debug!(
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
    macro_rules! scope_event {
        ($level:ident, $decision:expr, $reason:expr) => {
            tracing::$level!(
                target: TARGET,
                decision = $decision,
                reason = $reason,
                sub = token.subject(),
                client_id = token.client_id(),
                required = %required,
                granted = %token.scopes(),
                "scope check"
            )
        };
    }
    if allowed {
        scope_event!(debug, "allow", "scope_granted");
    } else {
        scope_event!(info, "deny", ErrorKind::InsufficientScope.as_str());
    }
}

pub(crate) fn claim_decision(token: &VerifiedToken, rule: &ClaimRule, allowed: bool) {
    macro_rules! claim_event {
        ($level:ident, $decision:expr, $reason:expr) => {
            tracing::$level!(
                target: TARGET,
                decision = $decision,
                reason = $reason,
                sub = token.subject(),
                client_id = token.client_id(),
                required = ?rule,
                "claim check"
            )
        };
    }
    if allowed {
        claim_event!(debug, "allow", "claim_granted");
    } else {
        claim_event!(info, "deny", ErrorKind::ClaimNotGranted.as_str());
    }
}

pub(crate) fn route_not_permitted(token: &VerifiedToken) {
    tracing::info!(
        target: TARGET,
        decision = "deny",
        reason = ErrorKind::RouteNotPermitted.as_str(),
        sub = token.subject(),
        client_id = token.client_id(),
        "no rule lists this route"
    );
}
