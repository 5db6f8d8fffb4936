//! A single required scope, `verb:resource`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use scopegate_syntax::{ScopeSyntaxError, validate_scope};

/// A validated `verb:resource` scope, such as `read:orders` or `write:products`.
///
/// Requirements are built from `Scope`s, so a typo like `"read-orders"` is caught when
/// the requirement is created, not silently never matched.
///
/// ```
/// use scopegate_core::Scope;
///
/// let scope: Scope = "write:products".parse()?;
/// assert_eq!(scope.verb(), "write");
/// assert_eq!(scope.resource(), "products");
///
/// let err = Scope::new("write products").unwrap_err();
/// assert!(err.to_string().contains("verb:resource"));
/// # Ok::<(), scopegate_core::ScopeError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Cow<'static, str>);

/// Why a scope or requirement could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The scope is not `verb:resource`.
    #[error("{}", .0.message())]
    Syntax(ScopeSyntaxError),
    /// A requirement was built from no scopes at all.
    #[error("a scope requirement needs at least one `verb:resource` scope")]
    EmptyRequirement,
    /// Not an RFC 6749 §3.3 scope-token (empty, or holding a space, `"`, `\` or a non-visible byte).
    #[error("a scope token must be visible ASCII other than space, `\"` and `\\`")]
    NotAScopeToken,
}

impl Scope {
    /// Parses and validates a `verb:resource` scope.
    pub fn new(scope: impl Into<String>) -> Result<Self, ScopeError> {
        let scope = scope.into();
        validate_scope(&scope).map_err(ScopeError::Syntax)?;
        Ok(Self(Cow::Owned(scope)))
    }

    /// Any RFC 6749 §3.3 scope-token, for issuers whose scopes are not `verb:resource`
    /// (Okta's `orders.read`, Entra's `api://orders/Orders.Read`, a bare `admin`). An
    /// explicit opt-in: [`new`](Self::new) and every shorthand check `verb:resource`.
    /// For a token without a colon, [`verb`](Self::verb) is the whole token.
    ///
    /// ```
    /// use scopegate_core::Scope;
    ///
    /// assert_eq!(Scope::token("orders.read")?.as_str(), "orders.read");
    /// assert!(Scope::token("two words").is_err());
    /// assert!(Scope::new("orders.read").is_err());
    /// # Ok::<(), scopegate_core::ScopeError>(())
    /// ```
    pub fn token(scope: impl Into<String>) -> Result<Self, ScopeError> {
        let scope = scope.into();
        if scope.is_empty() || !scope.bytes().all(scopegate_syntax::is_scope_char) {
            return Err(ScopeError::NotAScopeToken);
        }
        Ok(Self(Cow::Owned(scope)))
    }

    /// Builds a scope from a literal, validated at compile time in a `const` context.
    ///
    /// # Panics
    ///
    /// Panics if `scope` is not `verb:resource` (a compile error in `const` context).
    ///
    /// ```
    /// use scopegate_core::Scope;
    ///
    /// const WRITE_PRODUCTS: Scope = Scope::from_static("write:products");
    /// assert_eq!(WRITE_PRODUCTS.as_str(), "write:products");
    /// ```
    pub const fn from_static(scope: &'static str) -> Self {
        match validate_scope(scope) {
            Ok(()) => Self(Cow::Borrowed(scope)),
            Err(err) => panic!("{}", err.message()),
        }
    }

    /// The scope as written, e.g. `"write:products"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the colon, e.g. `"write"`.
    pub fn verb(&self) -> &str {
        self.split().0
    }

    /// The part after the colon, e.g. `"products"`.
    pub fn resource(&self) -> &str {
        self.split().1
    }

    fn split(&self) -> (&str, &str) {
        // Validated on construction: exactly one colon.
        self.0.split_once(':').unwrap_or((&self.0, ""))
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(scope: &str) -> Result<Self, Self::Err> {
        Self::new(scope)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_verb_resource() {
        for ok in [
            "read:orders",
            "write:products",
            "delete:analytics",
            "read:patient_history",
            "a:b",
            "read:api/v1.users",
        ] {
            assert_eq!(Scope::new(ok).map(|s| s.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn rejects_everything_else_with_a_verb_resource_message() {
        let cases = [
            ("", ScopeSyntaxError::Empty),
            ("readorders", ScopeSyntaxError::MissingColon),
            ("read:orders:all", ScopeSyntaxError::ExtraColon),
            (":orders", ScopeSyntaxError::EmptyVerb),
            ("read:", ScopeSyntaxError::EmptyResource),
            ("read: orders", ScopeSyntaxError::InvalidCharacter(5)),
            ("read:or\"ders", ScopeSyntaxError::InvalidCharacter(7)),
            ("read:or\\ders", ScopeSyntaxError::InvalidCharacter(7)),
            ("read:ordérs", ScopeSyntaxError::InvalidCharacter(8)),
            ("read:orders\n", ScopeSyntaxError::InvalidCharacter(11)),
        ];
        for (input, expected) in cases {
            let err = Scope::new(input).unwrap_err();
            assert_eq!(err, ScopeError::Syntax(expected), "{input:?}");
            assert!(err.to_string().contains("verb:resource"), "{input:?}");
        }
    }

    #[test]
    fn splits_verb_and_resource() {
        let scope = Scope::from_static("read:orders");
        assert_eq!((scope.verb(), scope.resource()), ("read", "orders"));
    }

    #[test]
    #[should_panic(expected = "verb:resource")]
    fn from_static_panics_on_invalid_literal() {
        let literal: &'static str = "read orders";
        let _ = Scope::from_static(std::hint::black_box(literal));
    }
}
