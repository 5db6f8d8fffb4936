//! What a route requires of the verified token, scopes or claims, decided one way.

use std::fmt;

use crate::audit;
use crate::claim_rule::ClaimRule;
use crate::error::{AuthError, ErrorKind};
use crate::requirement::Requirement;
use crate::token::VerifiedToken;

/// A rule a route checks on the request's verified token: a scope [`Requirement`] or a
/// [`ClaimRule`]. The adapters' route layers and macros call it; each decision emits an
/// audit event.
pub trait RouteCheck: fmt::Debug + Send + Sync + 'static {
    /// The decision given what the authentication step left: the verified token, if
    /// any, and whether an authentication layer ran at all. No token is a 401 (fail
    /// closed); without an authentication layer that is a wiring mistake, logged as a
    /// warning on target `scopegate`.
    fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError>;
}

impl RouteCheck for Requirement {
    fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        match token {
            Some(token) => self.check(token),
            None => Err(missing_token(self, authenticated)),
        }
    }
}

impl RouteCheck for ClaimRule {
    fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        let Some(token) = token else {
            return Err(missing_token(self, authenticated));
        };
        let allowed = self.is_satisfied_by(token.claims());
        audit::claim_decision(token, self, allowed);
        if allowed {
            Ok(())
        } else {
            Err(AuthError::from(ErrorKind::ClaimNotGranted)
                .with_dpop_challenge(token.dpop_challenge()))
        }
    }
}

/// The refusal of a route rule reached without a verified token.
pub(crate) fn missing_token(rule: &dyn fmt::Debug, authenticated: bool) -> AuthError {
    if !authenticated {
        tracing::warn!(
            target: "scopegate",
            required = ?rule,
            "route rule without a verified token: the authentication layer is missing \
             (add AuthLayer / ScopeGate in front of this route); request refused"
        );
    }
    ErrorKind::MissingCredentials.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TestIssuer;

    #[tokio::test]
    async fn claim_rules_refuse_with_403_and_no_token_with_401() {
        let issuer = TestIssuer::new();
        let verifier = issuer.verifier().expect("verifier");
        let token = verifier
            .verify(&issuer.token().claim("org_id", "acme").sign())
            .await
            .expect("valid");
        let acme = ClaimRule::equals("org_id", "acme");
        assert_eq!(acme.authorize(Some(&token), true), Ok(()));
        let other = ClaimRule::equals("org_id", "globex").authorize(Some(&token), true);
        let error = other.expect_err("another org");
        assert_eq!(
            (error.kind(), error.status().as_u16(), error.error_code()),
            (ErrorKind::ClaimNotGranted, 403, Some("insufficient_scope"))
        );
        assert_eq!(
            error.challenge("api").as_deref(),
            Some(
                r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a claim this route requires""#
            )
        );
        for authenticated in [true, false] {
            assert_eq!(
                acme.authorize(None, authenticated).map_err(|e| e.kind()),
                Err(ErrorKind::MissingCredentials)
            );
        }
    }
}
