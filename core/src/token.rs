//! A token that passed verification.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::DpopChallenge;
use crate::scope_set::ScopeSet;

/// An access token that passed every check: its claims and granted scopes.
///
/// Cheap to clone (one `Arc`). Registered claims were type-checked during verification,
/// so the accessors below never see a claim of the wrong JSON type.
#[derive(Clone)]
pub struct VerifiedToken {
    inner: Arc<Inner>,
}

struct Inner {
    claims: Map<String, Value>,
    scopes: ScopeSet,
    expires_at: u64,
    algorithm: Algorithm,
    /// How refusals concerning this token challenge, when its verifier accepts DPoP.
    dpop_challenge: Option<DpopChallenge>,
}

impl VerifiedToken {
    pub(crate) fn new(
        claims: Map<String, Value>,
        scopes: ScopeSet,
        expires_at: u64,
        algorithm: Algorithm,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                claims,
                scopes,
                expires_at,
                algorithm,
                dpop_challenge: None,
            }),
        }
    }

    /// The same token, whose refusals challenge with `DPoP` as described.
    pub(crate) fn with_dpop_challenge(self, challenge: Option<DpopChallenge>) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.dpop_challenge = challenge;
                Self {
                    inner: Arc::new(inner),
                }
            }
            Err(shared) => Self {
                inner: Arc::new(Inner {
                    claims: shared.claims.clone(),
                    scopes: shared.scopes.clone(),
                    expires_at: shared.expires_at,
                    algorithm: shared.algorithm,
                    dpop_challenge: challenge,
                }),
            },
        }
    }

    /// The DPoP challenge refusals about this token carry.
    pub(crate) fn dpop_challenge(&self) -> Option<DpopChallenge> {
        self.inner.dpop_challenge.clone()
    }

    /// The RFC 7638 thumbprint this token is bound to (`cnf.jkt`), for DPoP-bound tokens.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.claim("cnf")?.get("jkt")?.as_str()
    }

    /// The granted scopes (read from the configured [`ScopeSource`](crate::ScopeSource)).
    pub fn scopes(&self) -> &ScopeSet {
        &self.inner.scopes
    }

    /// Whether `scope` is granted, byte for byte.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.inner.scopes.contains(scope)
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        self.str_claim("iss").unwrap_or_default()
    }

    /// `sub`, e.g. `auth0|abc` for a user or `<client_id>@clients` for a machine.
    pub fn subject(&self) -> Option<&str> {
        self.str_claim("sub")
    }

    /// The audiences of `aud`.
    pub fn audiences(&self) -> impl Iterator<Item = &str> + '_ {
        let (single, many) = match self.inner.claims.get("aud") {
            Some(Value::String(aud)) => (Some(aud.as_str()), None),
            Some(Value::Array(items)) => (None, Some(items.iter().filter_map(Value::as_str))),
            _ => (None, None),
        };
        single.into_iter().chain(many.into_iter().flatten())
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.inner.expires_at
    }

    /// `iat`, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<u64> {
        self.inner.claims.get("iat").and_then(Value::as_u64)
    }

    /// `jti`.
    pub fn token_id(&self) -> Option<&str> {
        self.str_claim("jti")
    }

    /// The client the token was issued to: `azp` (Auth0, OIDC) or else `client_id` (RFC 9068).
    pub fn client_id(&self) -> Option<&str> {
        self.str_claim("azp")
            .or_else(|| self.str_claim("client_id"))
    }

    /// Auth0's grant type claim `gty`, e.g. `client-credentials` or `password`.
    pub fn grant_type(&self) -> Option<&str> {
        self.str_claim("gty")
    }

    /// Whether the token was issued to a machine (client credentials): Auth0's
    /// `gty: "client-credentials"`, or a `sub` of `<client_id>@clients`.
    pub fn is_machine(&self) -> bool {
        if self.grant_type() == Some("client-credentials") {
            return true;
        }
        match (
            self.subject().and_then(|s| s.strip_suffix("@clients")),
            self.client_id(),
        ) {
            (Some(client), Some(id)) => client == id,
            _ => false,
        }
    }

    /// The algorithm the token was signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.inner.algorithm
    }

    /// All claims of the payload.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.inner.claims
    }

    /// One claim by name, e.g. an Auth0 Actions namespaced claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.inner.claims.get(name)
    }

    /// Deserializes the claims into your own type.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")]
    /// # tokio_test_block_on(async {
    /// use scopegate_core::test_util::TestIssuer;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct MyClaims {
    ///     sub: String,
    ///     #[serde(rename = "https://retail.example/tier")]
    ///     tier: String,
    /// }
    ///
    /// let issuer = TestIssuer::new();
    /// let verifier = issuer.verifier()?;
    /// let token = issuer.token().claim("https://retail.example/tier", "gold").sign();
    /// let mine: MyClaims = verifier.verify(&token).await?.deserialize_claims()?;
    /// assert_eq!(mine.tier, "gold");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub fn deserialize_claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let entries = self
            .inner
            .claims
            .iter()
            .map(|(name, value)| (name.as_str(), value));
        T::deserialize(serde::de::value::MapDeserializer::new(entries))
    }

    fn str_claim(&self, name: &str) -> Option<&str> {
        self.inner.claims.get(name).and_then(Value::as_str)
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("sub", &self.subject())
            .field("client_id", &self.client_id())
            .field("scopes", self.scopes())
            .field("expires_at", &self.expires_at())
            .finish_non_exhaustive()
    }
}
