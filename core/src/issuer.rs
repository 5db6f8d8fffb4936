//! Trusted issuers: each with the `iss` values it signs as and its own keys.

use crate::config::ConfigError;
use crate::key_source::KeySource;
use crate::remote::RemoteKeys;

/// An issuer a [`Verifier`](crate::Verifier) trusts besides its primary one, added with
/// [`VerifierConfig::additional_issuer`](crate::VerifierConfig::additional_issuer).
///
/// A token is matched to an issuer by its (not yet verified) `iss`, exactly, before any
/// key is fetched; only that issuer's keys may verify it, so a key of one issuer never
/// verifies a token claiming another. Aliases are further `iss` values of the same issuer
/// with the same keys, such as an Auth0 tenant's custom domain beside its canonical one.
///
/// ```
/// use scopegate_core::{Issuer, VerifierConfig};
///
/// let verifier = VerifierConfig::auth0("retail.eu.auth0.com", "https://api.example/")
///     .issuer_alias("https://login.retail.example/")
///     .additional_issuer(Issuer::auth0("partners.us.auth0.com"))
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), scopegate_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    pub(crate) names: Vec<String>,
    pub(crate) keys: Option<KeySource>,
}

impl Issuer {
    /// Tokens whose `iss` is exactly `issuer`; keys discovered from it unless
    /// [`keys`](Self::keys) says otherwise.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            names: vec![issuer.into()],
            keys: None,
        }
    }

    /// An Auth0 tenant: `https://<domain>/` (a full URL is accepted, a missing trailing
    /// slash added), as [`VerifierConfig::auth0`](crate::VerifierConfig::auth0) spells it.
    pub fn auth0(domain_or_issuer_url: &str) -> Self {
        Self::new(crate::config::auth0_issuer(domain_or_issuer_url))
    }

    /// Another `iss` value of this issuer, verified with the same keys.
    pub fn alias(mut self, issuer: impl Into<String>) -> Self {
        self.names.push(issuer.into());
        self
    }

    /// Where this issuer's keys come from (default: discovery from its first name).
    pub fn keys(mut self, keys: impl Into<KeySource>) -> Self {
        self.keys = Some(keys.into());
        self
    }

    /// The `iss` values: the issuer, then its aliases.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// An issuer as a verifier holds it: its names and its own key source.
#[derive(Debug)]
pub(crate) struct TrustedIssuer {
    pub(crate) names: Vec<String>,
    pub(crate) keys: KeySource,
}

impl TrustedIssuer {
    pub(crate) fn build(issuer: Issuer) -> Result<Self, ConfigError> {
        let keys = match issuer.keys {
            Some(keys) => keys,
            None => RemoteKeys::discovery(issuer.names[0].clone()).build()?,
        };
        Ok(Self {
            names: issuer.names,
            keys,
        })
    }
}

/// The trusted issuers of a verifier, at most [`MAX_ISSUERS`](crate::VerifierConfig::MAX_ISSUERS).
#[derive(Debug)]
pub(crate) struct Issuers(Vec<TrustedIssuer>);

impl Issuers {
    /// Checks the list: names non-empty and unique across all issuers, at most `max`.
    pub(crate) fn new(issuers: Vec<Issuer>, max: usize) -> Result<Self, ConfigError> {
        if issuers.len() > max {
            return Err(ConfigError::TooManyIssuers);
        }
        let mut seen: Vec<&str> = Vec::new();
        for name in issuers.iter().flat_map(|issuer| &issuer.names) {
            if name.is_empty() {
                return Err(ConfigError::EmptyIssuer);
            }
            if seen.contains(&name.as_str()) {
                return Err(ConfigError::DuplicateIssuer);
            }
            seen.push(name);
        }
        issuers
            .into_iter()
            .map(TrustedIssuer::build)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether a token must be read for its `iss` to choose the keys.
    pub(crate) fn needs_selection(&self) -> bool {
        self.0.len() > 1
    }

    /// The issuer whose names include `iss`, exactly.
    pub(crate) fn position(&self, iss: &str) -> Option<usize> {
        self.0
            .iter()
            .position(|issuer| issuer.names.iter().any(|name| name == iss))
    }

    pub(crate) fn get(&self, index: usize) -> &TrustedIssuer {
        &self.0[index]
    }

    pub(crate) fn primary(&self) -> &TrustedIssuer {
        &self.0[0]
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &TrustedIssuer> {
        self.0.iter()
    }
}
