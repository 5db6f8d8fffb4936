//! A verified token together with the caller's own claim struct.

use std::ops::Deref;

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{AuthError, ErrorKind};
use crate::token::VerifiedToken;

/// The type parameter of [`TokenClaims`] when no custom claim struct is wanted.
pub type NoCustomClaims = IgnoredAny;

/// A [`VerifiedToken`] plus the claims deserialized into your own type `T` (for example
/// Auth0 Actions' namespaced claims). Derefs to the token, so standard claims and scopes
/// are one method call away. The adapters' `Claims<T>` extractors wrap this type.
///
/// ```
/// use scopegate_core::{test_util::TestIssuer, TokenClaims};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Retail {
///     #[serde(rename = "https://retail.example/tier")]
///     tier: String,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let issuer = TestIssuer::new();
/// let token = issuer.token().claim("https://retail.example/tier", "gold").sign();
/// let verified = issuer.verifier()?.verify(&token).await?;
/// let claims = TokenClaims::<Retail>::from_token(verified)?;
/// assert_eq!((claims.custom().tier.as_str(), claims.subject()), ("gold", Some("auth0|test-user")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenClaims<T = NoCustomClaims> {
    token: VerifiedToken,
    custom: T,
}

impl<T: DeserializeOwned> TokenClaims<T> {
    /// Deserializes `T` from the token's claims. A token whose claims do not fit `T` is
    /// refused with [`ErrorKind::ClaimRuleFailed`] (401 `invalid_token`): it is valid, but
    /// not acceptable where these claims are needed.
    pub fn from_token(token: VerifiedToken) -> Result<Self, AuthError> {
        match token.deserialize_claims::<T>() {
            Ok(custom) => Ok(Self { token, custom }),
            Err(_) => Err(ErrorKind::ClaimRuleFailed.into()),
        }
    }
}

impl<T> TokenClaims<T> {
    /// The verified token.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }

    /// Your claim struct.
    pub fn custom(&self) -> &T {
        &self.custom
    }

    /// Your claim struct, by value.
    pub fn into_custom(self) -> T {
        self.custom
    }
}

impl<T> Deref for TokenClaims<T> {
    type Target = VerifiedToken;

    fn deref(&self) -> &VerifiedToken {
        &self.token
    }
}
