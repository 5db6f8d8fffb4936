//! Keys fetched from the issuer: discovery, transport, and the cache.

mod cache;
mod discovery;
mod status;
mod transport;
mod url_policy;

use std::sync::Arc;
use std::time::Duration;

pub use status::KeyCacheStatus;

pub(crate) use cache::KeyCache;
use cache::{Limits, Location, MonotonicClock};
use transport::Transport;
use url_policy::UrlPolicy;

use crate::config::ConfigError;
use crate::key_source::KeySource;
use crate::keys::KeySet;

/// Settings for keys fetched from the issuer, turned into a [`KeySource`] by
/// [`build`](Self::build).
///
/// * Discovery: OIDC `/.well-known/openid-configuration`, then RFC 8414
///   `/.well-known/oauth-authorization-server`; the metadata `issuer` must equal the
///   configured one exactly. Without metadata, `<issuer>/.well-known/jwks.json` (Auth0).
/// * Transport: HTTPS only (plain HTTP to loopback hosts for tests and local issuers, and
///   to private hosts only with [`allow_plain_http_to_private_hosts`](Self::allow_plain_http_to_private_hosts)),
///   no redirects, a 5 s timeout, a 1 MiB response cap and at most 100 keys; your own
///   client with [`http_client`](Self::http_client).
/// * Cache: keys are fresh for 10 min (`Cache-Control: max-age` honoured, clamped to
///   1 min – 24 h) and refreshed in the background before then; an unknown `kid`
///   refetches at most once per 30 s cooldown and is otherwise rejected at once; one
///   fetch is in flight however many requests wait; when a refresh fails the last good
///   keys keep serving for up to 24 h while retries back off (1 s doubling to 60 s).
/// * Nothing cached and the fetch fails: 503 with `Retry-After`.
///
/// ```
/// use std::time::Duration;
/// use scopegate_core::{RemoteKeys, VerifierConfig};
///
/// let keys = RemoteKeys::discovery("https://tenant.eu.auth0.com/")
///     .refetch_cooldown(Duration::from_secs(60))
///     .build()?;
/// let verifier = VerifierConfig::auth0("tenant.eu.auth0.com", "https://api.example/")
///     .keys(keys)
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), scopegate_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RemoteKeys {
    target: Target,
    limits: Limits,
    max_response_size: usize,
    clock: MonotonicClock,
    client: Option<reqwest::Client>,
    url_policy: UrlPolicy,
}

#[derive(Debug, Clone)]
enum Target {
    Discovery(String),
    Jwks(String),
}

impl RemoteKeys {
    /// How long fetched keys are fresh without a `Cache-Control: max-age`: 10 minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
    /// The least time between two refetches caused by unknown `kid`s: 30 seconds.
    pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
    /// How long the last good keys keep serving while the issuer fails: 24 hours.
    pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(24 * 3600);
    /// Connect plus response timeout of one refresh: 5 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The largest accepted response body: 1 MiB.
    pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 1024 * 1024;

    /// Keys of `issuer`, found through its metadata.
    pub fn discovery(issuer: impl Into<String>) -> Self {
        Self::with_target(Target::Discovery(issuer.into()))
    }

    /// Keys from a JWKS URL, without discovery.
    pub fn jwks_url(url: impl Into<String>) -> Self {
        Self::with_target(Target::Jwks(url.into()))
    }

    fn with_target(target: Target) -> Self {
        Self {
            target,
            limits: Limits {
                ttl: Self::DEFAULT_TTL,
                min_ttl: Duration::from_secs(60),
                max_ttl: Duration::from_secs(24 * 3600),
                cooldown: Self::DEFAULT_REFETCH_COOLDOWN,
                max_staleness: Self::DEFAULT_MAX_STALENESS,
                timeout: Self::DEFAULT_TIMEOUT,
                max_keys: KeySet::MAX_JWKS_KEYS,
            },
            max_response_size: Self::DEFAULT_MAX_RESPONSE_SIZE,
            clock: MonotonicClock::default(),
            client: None,
            url_policy: UrlPolicy::default(),
        }
    }

    /// Fetches with your own `reqwest` client: a proxy, extra CA roots, client
    /// certificates. The timeout, the response cap and the URL rules still apply, and an
    /// answer the client reached by following a redirect is refused; build it with
    /// `redirect(reqwest::redirect::Policy::none())` so no request leaves for another
    /// host at all.
    ///
    /// ```
    /// use scopegate_core::RemoteKeys;
    ///
    /// let client = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .proxy(reqwest::Proxy::https("http://proxy.corp.example:3128")?)
    ///     .build()?;
    /// let keys = RemoteKeys::discovery("https://tenant.eu.auth0.com/").http_client(client).build()?;
    /// # let _ = keys;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Also allows plain HTTP to private hosts: private and unique-local IP addresses,
    /// single-label names such as docker-compose's `http://keycloak:8080/`, and
    /// `.internal` / `.local` names. Off by default. Anyone on the network path can then
    /// replace the keys and so mint any token: use it for local stacks and networks you
    /// trust. Building such a source logs a warning (target `scopegate::keys`).
    pub fn allow_plain_http_to_private_hosts(mut self, allow: bool) -> Self {
        self.url_policy = if allow {
            UrlPolicy::PrivateHttp
        } else {
            UrlPolicy::LoopbackHttp
        };
        self
    }

    /// How long keys are fresh when the response has no `Cache-Control: max-age`.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.limits.ttl = ttl;
        self
    }

    /// Bounds applied to a `Cache-Control: max-age` (default 1 min to 24 h).
    pub fn max_age_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.limits.min_ttl = min.min(max);
        self.limits.max_ttl = max.max(min);
        self
    }

    /// The least time between two refetches caused by unknown `kid`s.
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.limits.cooldown = cooldown;
        self
    }

    /// How long the last good keys keep serving while refreshes fail.
    pub fn max_staleness(mut self, max: Duration) -> Self {
        self.limits.max_staleness = max;
        self
    }

    /// Timeout of one refresh (discovery and JWKS together).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self
    }

    /// The largest accepted response body, in bytes.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The most keys a JWKS may hold.
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.limits.max_keys = keys;
        self
    }

    /// Replaces the monotonic clock (time since any fixed start) used for TTLs, cooldowns,
    /// backoff and staleness, for tests.
    pub fn clock(mut self, now: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        self.clock = MonotonicClock::new(now);
        self
    }

    /// Checks the URL (HTTPS, or HTTP to loopback) and builds the key source. Nothing is
    /// fetched until the first verification (or [`Verifier::refresh_keys`](crate::Verifier::refresh_keys)).
    pub fn build(self) -> Result<KeySource, ConfigError> {
        let policy = self.url_policy;
        let location = match self.target {
            Target::Discovery(issuer) => {
                let url = policy.parse(&issuer)?;
                Location::Discovery { issuer, url }
            }
            Target::Jwks(url) => Location::Jwks(policy.parse(&url)?),
        };
        let url = match &location {
            Location::Discovery { url, .. } | Location::Jwks(url) => url,
        };
        if UrlPolicy::is_plain_http_off_machine(url) {
            tracing::warn!(
                target: "scopegate::keys",
                url = %url,
                "keys will be fetched over plain HTTP: anyone on the network path can replace them and mint any token; use this only on a network you trust"
            );
        }
        let transport = Transport::new(
            self.client,
            self.limits.timeout,
            self.max_response_size,
            policy,
        )
        .map_err(|_| ConfigError::HttpClient)?;
        let cache = KeyCache::new(location, self.limits, transport, self.clock);
        Ok(KeySource::remote(Arc::new(cache)))
    }
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("target", &self.target)
            .field("limits", &self.limits)
            .field("max_response_size", &self.max_response_size)
            .field("custom_client", &self.client.is_some())
            .field("url_policy", &self.url_policy)
            .finish_non_exhaustive()
    }
}
