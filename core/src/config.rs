//! Verifier configuration.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::claim_rule::ClaimRule;
use crate::dpop::Dpop;
use crate::issuer::Issuer;
use crate::key_source::KeySource;
use crate::profile::Profile;
use crate::scope_set::ScopeSource;
use crate::verifier::Verifier;

/// Why a [`VerifierConfig`] cannot build a [`Verifier`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is empty.
    #[error("the issuer must not be empty")]
    EmptyIssuer,
    /// No audience, or an empty one.
    #[error("at least one non-empty audience is required")]
    NoAudience,
    /// The algorithm allow-list is empty.
    #[error("at least one algorithm must be allowed")]
    NoAlgorithms,
    /// A key URL that does not parse, or is not `http(s)`.
    #[error("the key URL is not a valid http(s) URL")]
    InvalidUrl,
    /// A key URL over plain HTTP to a host that is not loopback.
    #[error(
        "keys must be fetched over HTTPS (plain HTTP only to loopback hosts, or to private hosts where explicitly allowed)"
    )]
    InsecureUrl,
    /// The HTTP client could not be created.
    #[error("the HTTP client for fetching keys could not be created")]
    HttpClient,
    /// More issuers than [`VerifierConfig::MAX_ISSUERS`].
    #[error("a verifier trusts at most 100 issuers")]
    TooManyIssuers,
    /// The same `iss` value is configured twice (as an issuer or an alias).
    #[error("an issuer or alias is configured twice")]
    DuplicateIssuer,
    /// DPoP proofs need at least one algorithm, and only asymmetric ones.
    #[error("DPoP proofs need at least one allowed algorithm, and only asymmetric ones")]
    DpopAlgorithms,
    /// An HS* algorithm is allowed but no HMAC secret is configured.
    #[error(
        "HS256/HS384/HS512 may only be allowed together with an explicitly configured HMAC secret"
    )]
    HmacWithoutSecret,
    /// A gRPC method path that is not `/package.Service/Method` or `/package.Service/*`,
    /// or one listed twice.
    #[error("a gRPC method must be `/package.Service/Method` or `/package.Service/*`, once")]
    InvalidMethodPath,
}

/// An injectable source of the current time, in seconds since the Unix epoch.
#[derive(Clone, Default)]
pub(crate) struct Clock(Option<Arc<dyn Fn() -> u64 + Send + Sync>>);

impl Clock {
    pub(crate) fn now(&self) -> u64 {
        match &self.0 {
            Some(now) => now(),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
        }
    }
}

/// Everything a [`Verifier`] checks, built with chained setters.
///
/// Defaults: algorithms `[RS256]`, leeway 5 s, tokens up to 16 KiB, no maximum age,
/// scopes from the `scope` claim, the [`Profile::Auth0`] profile, no query-string tokens.
///
/// ```
/// use std::time::Duration;
/// use scopegate_core::{Algorithm, KeySet, ScopeSource, VerifierConfig};
///
/// # let jwks = scopegate_core::test_util::TestIssuer::new().jwks_json();
/// let verifier = VerifierConfig::new("https://issuer.example/", "https://api.example/")
///     .algorithms([Algorithm::RS256, Algorithm::ES256])
///     .leeway(Duration::from_secs(10))
///     .scope_source(ScopeSource::union(ScopeSource::Scope, ScopeSource::Permissions))
///     .keys(KeySet::from_jwks(&jwks)?)
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct VerifierConfig {
    pub(crate) issuer: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) additional_issuers: Vec<Issuer>,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: Duration,
    pub(crate) max_token_size: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) keys: Option<KeySource>,
    pub(crate) scope_source: ScopeSource,
    pub(crate) profile: Profile,
    pub(crate) rules: Vec<ClaimRule>,
    pub(crate) allow_query_token: bool,
    pub(crate) unavailable_as_invalid_token: bool,
    pub(crate) token_cache: usize,
    pub(crate) clock: Clock,
    pub(crate) dpop: Option<Dpop>,
}

impl VerifierConfig {
    /// The default cap on a token's length: 16 KiB.
    pub const DEFAULT_MAX_TOKEN_SIZE: usize = 16 * 1024;
    /// The default size of the verified-token cache: 10 000 tokens (about 10 MiB).
    pub const DEFAULT_TOKEN_CACHE: usize = 10_000;
    /// The default clock leeway: 5 seconds.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
    /// The most issuers one verifier trusts, the primary one included: 100.
    pub const MAX_ISSUERS: usize = 100;

    /// Tokens from `issuer` (compared exactly with `iss`) for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            aliases: Vec::new(),
            additional_issuers: Vec::new(),
            audiences: vec![audience.into()],
            algorithms: vec![Algorithm::RS256],
            leeway: Self::DEFAULT_LEEWAY,
            max_token_size: Self::DEFAULT_MAX_TOKEN_SIZE,
            max_age: None,
            keys: None,
            scope_source: ScopeSource::default(),
            profile: Profile::default(),
            rules: Vec::new(),
            allow_query_token: false,
            unavailable_as_invalid_token: false,
            token_cache: Self::DEFAULT_TOKEN_CACHE,
            clock: Clock::default(),
            dpop: None,
        }
    }

    /// Auth0 access tokens for an API: the issuer is `https://<domain>/` (a full issuer URL
    /// is accepted too, a missing trailing slash added), RS256, the default profile.
    ///
    /// ```
    /// use scopegate_core::VerifierConfig;
    ///
    /// let config = VerifierConfig::auth0("tenant.eu.auth0.com", "https://api.example/");
    /// assert_eq!(config.issuer(), "https://tenant.eu.auth0.com/");
    /// let config = VerifierConfig::auth0("https://login.example.com", "https://api.example/");
    /// assert_eq!(config.issuer(), "https://login.example.com/");
    /// ```
    pub fn auth0(domain_or_issuer_url: &str, audience: impl Into<String>) -> Self {
        Self::new(auth0_issuer(domain_or_issuer_url), audience)
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Another `iss` value of the primary issuer, verified with its keys: an Auth0
    /// tenant's custom domain beside its canonical `https://<tenant>.auth0.com/`, say.
    /// Compared exactly, like the issuer.
    pub fn issuer_alias(mut self, issuer: impl Into<String>) -> Self {
        self.aliases.push(issuer.into());
        self
    }

    /// Trusts one more issuer, with keys of its own (see [`Issuer`]). A token is matched
    /// to an issuer by its `iss` before any key is fetched; a token naming no trusted
    /// issuer is refused (401 `invalid_token`) without a fetch.
    pub fn additional_issuer(mut self, issuer: Issuer) -> Self {
        self.additional_issuers.push(issuer);
        self
    }

    /// Accepts one more audience.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Replaces the allowed algorithms. `none` does not exist; HS* need an HMAC secret.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Clock skew tolerated for `exp`, `nbf` and `iat` (whole seconds).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest accepted token, in bytes, checked before any decoding.
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Rejects tokens whose `iat` is older than `age` (and tokens without `iat`).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Where verification keys come from. Default: discovery from the issuer
    /// ([`RemoteKeys::discovery`](crate::RemoteKeys::discovery) with default settings).
    pub fn keys(mut self, keys: impl Into<KeySource>) -> Self {
        self.keys = Some(keys.into());
        self
    }

    /// Which claim(s) grant scopes.
    pub fn scope_source(mut self, source: ScopeSource) -> Self {
        self.scope_source = source;
        self
    }

    /// The verification profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Adds a custom claim rule; every rule must hold.
    pub fn require(mut self, rule: ClaimRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Also reads the token from the `access_token` query parameter (RFC 6750 §2.3).
    /// Off by default: URLs end up in logs and browser history.
    pub fn allow_query_token(mut self, allow: bool) -> Self {
        self.allow_query_token = allow;
        self
    }

    /// When keys cannot be obtained and none are cached, answer 401 `invalid_token`
    /// (as Auth0's Node and Go middlewares do) instead of the default 503 with `Retry-After`.
    pub fn keys_unavailable_as_invalid_token(mut self, enabled: bool) -> Self {
        self.unavailable_as_invalid_token = enabled;
        self
    }

    /// Size of the verified-token cache, in tokens of up to ~380 bytes (larger tokens
    /// count more; memory stays near `capacity` KiB); `0` disables it.
    ///
    /// A token seen before is accepted without re-checking its signature or re-parsing
    /// it: the entry is keyed by the exact token bytes (compared in full), dies when `exp`
    /// (or the maximum age) passes, and is dropped when the key set that verified it is
    /// replaced, so a key rotated out takes its tokens with it. Scope checks run per
    /// request as always. Custom [`ClaimRule::check`](crate::ClaimRule::check) closures are
    /// evaluated when a token is first verified: keep them independent of time.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = capacity;
        self
    }

    /// Replaces the clock (seconds since the Unix epoch), for tests of time-dependent rules.
    pub fn clock(mut self, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Clock(Some(Arc::new(now)));
        self
    }

    /// Accepts DPoP-bound tokens with their proofs (RFC 9449); see [`Dpop`]. Off by
    /// default: then the `DPoP` scheme is not read and bound tokens are refused. The
    /// adapters check proofs against each request; [`Verifier::verify`] alone cannot
    /// (it has no request) and keeps refusing bound tokens.
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Checks the configuration and builds the verifier.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        Verifier::new(self)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::NoAudience);
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithms);
        }
        if let Some(dpop) = &self.dpop {
            dpop.validate()?;
        }
        if self.algorithms.iter().any(|alg| alg.is_hmac()) {
            let has_secret = self
                .keys
                .as_ref()
                .and_then(KeySource::static_keys)
                .is_some_and(|keys| keys.iter().any(|key| key.is_hmac()));
            if !has_secret {
                return Err(ConfigError::HmacWithoutSecret);
            }
        }
        Ok(())
    }
}

pub(crate) fn auth0_issuer(domain_or_issuer_url: &str) -> String {
    let trimmed = domain_or_issuer_url.trim();
    let mut issuer = if trimmed.starts_with("https://") || trimmed.starts_with("http://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    if !issuer.ends_with('/') {
        issuer.push('/');
    }
    issuer
}

impl fmt::Debug for VerifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierConfig")
            .field("issuer", &self.issuer)
            .field("aliases", &self.aliases)
            .field("additional_issuers", &self.additional_issuers)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_token_size", &self.max_token_size)
            .field("max_age", &self.max_age)
            .field("keys", &self.keys)
            .field("scope_source", &self.scope_source)
            .field("profile", &self.profile)
            .field("rules", &self.rules)
            .field("allow_query_token", &self.allow_query_token)
            .field(
                "unavailable_as_invalid_token",
                &self.unavailable_as_invalid_token,
            )
            .field("token_cache", &self.token_cache)
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}
