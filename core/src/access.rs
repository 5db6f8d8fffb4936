//! What one route or method demands of a request: nothing, any valid token, or scopes.

use crate::audit;
use crate::error::{AuthError, ErrorKind};
use crate::requirement::Requirement;
use crate::route_check::{RouteCheck, missing_token};
use crate::token::VerifiedToken;

/// The rule of one route or gRPC method, as listed in [`MethodRules`](crate::MethodRules)
/// or a proxy's routes.
///
/// ```
/// use scopegate_core::{Access, ErrorKind, Requirement};
///
/// let orders = Access::Scopes(Requirement::all(["read:orders"])?);
/// // No token, behind an authentication step that let the request pass as anonymous.
/// assert_eq!(orders.authorize(None, true).unwrap_err().kind(), ErrorKind::MissingCredentials);
/// assert_eq!(Access::Public.authorize(None, true), Ok(()));
/// # Ok::<(), scopegate_core::ScopeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// No token needed. A token that is presented is still verified by the
    /// authentication step, so an invalid one is refused.
    Public,
    /// Any valid token.
    Authenticated,
    /// A valid token granting these scopes.
    Scopes(Requirement),
}

impl Access {
    /// Whether a request without a token can pass.
    pub fn is_public(&self) -> bool {
        matches!(self, Self::Public)
    }

    /// The decision for a route with this rule, given the verified token if any and
    /// whether an authentication step ran: see [`RouteCheck::authorize`].
    pub fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        RouteCheck::authorize(self, token, authenticated)
    }

    /// The refusal of a request that no rule lists (closed by default): 401 without a
    /// token, else 403 [`ErrorKind::RouteNotPermitted`], with an audit event.
    pub fn unlisted(token: Option<&VerifiedToken>, authenticated: bool) -> AuthError {
        match token {
            None => missing_token(&"no rule lists this route", authenticated),
            Some(token) => {
                audit::route_not_permitted(token);
                AuthError::from(ErrorKind::RouteNotPermitted)
                    .with_dpop_challenge(token.dpop_challenge())
            }
        }
    }
}

impl RouteCheck for Access {
    fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        match (self, token) {
            (Self::Public, _) | (Self::Authenticated, Some(_)) => Ok(()),
            (Self::Authenticated, None) => Err(missing_token(self, authenticated)),
            (Self::Scopes(requirement), _) => requirement.authorize(token, authenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TestIssuer;

    /// A verified token granting `read:orders`.
    async fn orders_token() -> VerifiedToken {
        let issuer = TestIssuer::new();
        let verifier = issuer.verifier().expect("verifier");
        verifier
            .verify(&issuer.token().scope("read:orders").sign())
            .await
            .expect("valid")
    }

    #[tokio::test]
    async fn each_rule_decides_with_and_without_a_token() {
        let token = orders_token().await;
        let orders = Access::Scopes(Requirement::all(["read:orders"]).expect("scope"));
        let products = Access::Scopes(Requirement::all(["read:products"]).expect("scope"));
        let kind = |result: Result<(), AuthError>| result.map_err(|e| e.kind());

        assert_eq!(kind(Access::Public.authorize(None, true)), Ok(()));
        assert_eq!(kind(Access::Public.authorize(Some(&token), true)), Ok(()));
        assert_eq!(
            kind(Access::Authenticated.authorize(Some(&token), true)),
            Ok(())
        );
        assert_eq!(
            kind(Access::Authenticated.authorize(None, true)),
            Err(ErrorKind::MissingCredentials)
        );
        assert_eq!(kind(orders.authorize(Some(&token), true)), Ok(()));
        assert_eq!(
            kind(products.authorize(Some(&token), true)),
            Err(ErrorKind::InsufficientScope)
        );
        assert_eq!(
            kind(products.authorize(None, false)),
            Err(ErrorKind::MissingCredentials)
        );
    }

    #[tokio::test]
    async fn unlisted_routes_are_refused_even_with_a_valid_token() {
        let token = orders_token().await;
        let refused = Access::unlisted(Some(&token), true);
        assert_eq!(
            (
                refused.kind(),
                refused.status().as_u16(),
                refused.error_code()
            ),
            (
                ErrorKind::RouteNotPermitted,
                403,
                Some("insufficient_scope")
            )
        );
        assert_eq!(refused.required(), None);
        assert_eq!(
            Access::unlisted(None, true).kind(),
            ErrorKind::MissingCredentials
        );
    }
}
