//! What a route needs: all, or any, of some scopes.

use std::fmt;
use std::sync::Arc;

use crate::audit;
use crate::error::AuthError;
use crate::scope::{Scope, ScopeError};
use crate::scope_set::ScopeSet;
use crate::token::VerifiedToken;

/// Whether a requirement needs all of its scopes or any one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Every scope must be granted.
    All,
    /// At least one scope must be granted.
    Any,
}

/// A scope rule for a route: `all([...])` or `any([...])` of `verb:resource` scopes.
///
/// Cheap to clone. Rendered (space-separated) as the `scope` attribute of a 403 challenge.
///
/// ```
/// use scopegate_core::{Requirement, ScopeSet};
///
/// let reports = Requirement::all(["read:orders", "read:analytics"])?;
/// assert!(!reports.is_satisfied_by(&ScopeSet::from_space_delimited("read:orders")));
/// assert!(reports.is_satisfied_by(&ScopeSet::from_space_delimited("read:analytics read:orders")));
/// assert_eq!(reports.to_string(), "read:orders read:analytics");
/// # Ok::<(), scopegate_core::ScopeError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Requirement {
    matching: Match,
    scopes: Arc<[Scope]>,
}

impl Requirement {
    /// Every one of `scopes` must be granted.
    pub fn all<I>(scopes: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::new(Match::All, scopes)
    }

    /// At least one of `scopes` must be granted.
    pub fn any<I>(scopes: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::new(Match::Any, scopes)
    }

    /// Builds a requirement; fails on an invalid scope or an empty list.
    pub fn new<I>(matching: Match, scopes: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut parsed: Vec<Scope> = Vec::new();
        for scope in scopes {
            let scope = Scope::new(scope.as_ref())?;
            if !parsed.contains(&scope) {
                parsed.push(scope);
            }
        }
        Self::from_scopes(matching, parsed)
    }

    /// Every one of `tokens` must be granted; each may be any RFC 6749 scope-token, not
    /// only `verb:resource` (see [`Scope::token`]).
    ///
    /// ```
    /// use scopegate_core::Requirement;
    ///
    /// let okta = Requirement::all_tokens(["orders.read"])?;
    /// assert_eq!(okta.to_string(), "orders.read");
    /// # Ok::<(), scopegate_core::ScopeError>(())
    /// ```
    pub fn all_tokens<I>(tokens: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::from_tokens(Match::All, tokens)
    }

    /// At least one of `tokens` must be granted; any RFC 6749 scope-tokens.
    pub fn any_tokens<I>(tokens: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::from_tokens(Match::Any, tokens)
    }

    fn from_tokens<I>(matching: Match, tokens: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut parsed: Vec<Scope> = Vec::new();
        for token in tokens {
            let scope = Scope::token(token.as_ref())?;
            if !parsed.contains(&scope) {
                parsed.push(scope);
            }
        }
        Self::from_scopes(matching, parsed)
    }

    /// Builds a requirement from already validated scopes; fails on an empty list.
    pub fn from_scopes(matching: Match, scopes: Vec<Scope>) -> Result<Self, ScopeError> {
        if scopes.is_empty() {
            return Err(ScopeError::EmptyRequirement);
        }
        Ok(Self {
            matching,
            scopes: scopes.into(),
        })
    }

    /// A requirement from literals already known to be valid, e.g. checked at compile time
    /// by `#[requires_scope]`.
    ///
    /// # Panics
    ///
    /// Panics if a literal is not `verb:resource` or the list is empty.
    pub fn from_static(matching: Match, scopes: &[&'static str]) -> Self {
        let scopes = scopes
            .iter()
            .map(|scope| Scope::from_static(scope))
            .collect();
        Self::from_scopes(matching, scopes).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Whether all or any scope is needed.
    pub fn matching(&self) -> Match {
        self.matching
    }

    /// The scopes named by this requirement.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Whether `granted` satisfies this requirement. Does not allocate.
    pub fn is_satisfied_by(&self, granted: &ScopeSet) -> bool {
        let mut needed = self.scopes.iter();
        match self.matching {
            Match::All => needed.all(|scope| granted.contains(scope.as_str())),
            Match::Any => needed.any(|scope| granted.contains(scope.as_str())),
        }
    }

    /// Checks a verified token against this requirement, emitting the audit event.
    ///
    /// Fails with [`ErrorKind::InsufficientScope`](crate::ErrorKind::InsufficientScope) (403, with this requirement in the
    /// challenge's `scope` attribute).
    pub fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let allowed = self.is_satisfied_by(token.scopes());
        audit::scope_decision(token, self, allowed);
        if allowed {
            Ok(())
        } else {
            Err(AuthError::insufficient_scope(self.clone())
                .with_dpop_challenge(token.dpop_challenge()))
        }
    }
}

impl Requirement {
    /// The decision for a scoped route: [`RouteCheck::authorize`](crate::RouteCheck::authorize).
    pub fn authorize(
        &self,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        crate::RouteCheck::authorize(self, token, authenticated)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.scopes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.matching {
            Match::All => "all",
            Match::Any => "any",
        };
        f.debug_tuple(name).field(&&*self.scopes).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(s: &str) -> ScopeSet {
        ScopeSet::from_space_delimited(s)
    }

    #[test]
    fn all_needs_every_scope() {
        let req = Requirement::all(["read:orders", "read:analytics"]).unwrap();
        assert!(req.is_satisfied_by(&granted("read:analytics read:orders")));
        assert!(!req.is_satisfied_by(&granted("read:orders")));
        assert!(!req.is_satisfied_by(&granted("")));
    }

    #[test]
    fn any_needs_one_scope() {
        let req = Requirement::any(["read:orders", "read:analytics"]).unwrap();
        assert!(req.is_satisfied_by(&granted("read:analytics")));
        assert!(!req.is_satisfied_by(&granted("write:orders")));
    }

    #[test]
    fn empty_or_invalid_requirements_are_errors() {
        assert_eq!(
            Requirement::all(Vec::<&str>::new()),
            Err(ScopeError::EmptyRequirement)
        );
        assert!(matches!(
            Requirement::any(["read orders"]),
            Err(ScopeError::Syntax(_))
        ));
    }

    #[test]
    fn scope_tokens_are_an_explicit_opt_in() {
        assert!(matches!(
            Requirement::all(["orders.read"]),
            Err(ScopeError::Syntax(_))
        ));
        let req =
            Requirement::any_tokens(["orders.read", "api://orders/Orders.Read", "admin"]).unwrap();
        assert!(req.is_satisfied_by(&granted("admin")));
        assert!(!req.is_satisfied_by(&granted("Admin orders:read")));
        for bad in ["", "two words", "quote\"", "back\\slash", "tab\t"] {
            assert_eq!(
                Requirement::all_tokens([bad]),
                Err(ScopeError::NotAScopeToken),
                "{bad:?}"
            );
        }
        assert_eq!(
            Requirement::all_tokens(Vec::<&str>::new()),
            Err(ScopeError::EmptyRequirement)
        );
    }

    #[test]
    fn renders_space_separated_without_duplicates() {
        let req = Requirement::all(["write:products", "write:products", "read:products"]).unwrap();
        assert_eq!(req.to_string(), "write:products read:products");
    }
}
