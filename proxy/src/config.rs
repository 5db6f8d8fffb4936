//! The proxy's TOML configuration: where it listens, which issuer it trusts, how it
//! forwards, and its routes.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use std::time::Duration;

use http::HeaderName;
use scopegate_core::{Dpop, Issuer, TokenSource, Verifier, VerifierConfig};
use serde::Deserialize;

use crate::trusted::TrustedProxies;

/// The whole configuration file.
///
/// ```
/// let config: scopegate_proxy::ProxyConfig = toml::from_str(r#"
///     listen = "127.0.0.1:8080"
///
///     [issuer]
///     url = "https://your-tenant.us.auth0.com/"
///     audience = "https://api.example.com"
///
///     [[route]]
///     prefix = "/health"
///     upstream = "http://127.0.0.1:9000"
///     public = true
///
///     [[route]]
///     prefix = "/orders"
///     methods = ["GET"]
///     upstream = "http://127.0.0.1:9000"
///     require.all = ["read:orders"]
/// "#)?;
/// assert_eq!(config.routes.len(), 2);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Where the proxy listens (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where the token is read, tried in order, for routes that name none:
    /// `"authorization"` (`Authorization: Bearer`, the default), `"cookie:<name>"`,
    /// `"header:<name>"` (see [`TokenSource`](scopegate_core::TokenSource)).
    #[serde(default)]
    pub token_sources: Option<Vec<String>>,
    /// The issuer whose tokens are accepted; without it the embedded dev issuer runs.
    pub issuer: Option<IssuerConfig>,
    /// DPoP-bound tokens (RFC 9449): off without this section.
    pub dpop: Option<DpopConfig>,
    /// How requests are forwarded.
    #[serde(default)]
    pub forwarding: ForwardingConfig,
    /// How client connections are accepted, timed out and drained.
    #[serde(default)]
    pub server: ServerConfig,
    /// The routes (`[[route]]` tables). A request no route matches is refused.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    /// Forward-auth mode: decisions for front proxies (nginx `auth_request`, Traefik
    /// `forwardAuth`) on the proxy's listener. Off without the section.
    pub forward_auth: Option<ForwardAuthConfig>,
}

/// `[issuer]`: the issuer as tokens name it (`iss`; keys discovered from it), other
/// names of it, further trusted issuers, and the audience tokens must carry.
///
/// ```toml
/// [issuer]
/// url = "https://your-tenant.us.auth0.com/"
/// aliases = ["https://login.example.com/"]   # an Auth0 custom domain, say
/// audience = "https://api.example.com"
///
/// [[issuer.additional]]                      # a second tenant, its own keys
/// url = "https://partners.eu.auth0.com/"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL exactly as in `iss` (Auth0: with the trailing slash).
    pub url: String,
    /// Other `iss` values of the same issuer, verified with its keys.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The API identifier.
    pub audience: String,
    /// More audiences accepted beside `audience`.
    #[serde(default)]
    pub additional_audiences: Vec<String>,
    /// Further trusted issuers, each with keys discovered from its own URL.
    #[serde(default)]
    pub additional: Vec<AdditionalIssuerConfig>,
}

/// `[[issuer.additional]]`: one more trusted issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalIssuerConfig {
    /// The issuer URL exactly as in `iss`.
    pub url: String,
    /// Other `iss` values of this issuer.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// `[dpop]`: accept DPoP-bound tokens with their per-request proofs.
///
/// ```toml
/// [dpop]
/// mode = "required"                             # or "allowed" (Bearer still accepted)
/// public_base_url = "https://api.example.com"   # what clients put in htu
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpopConfig {
    /// `allowed`: DPoP-bound tokens with proofs, and unbound bearer tokens; `required`:
    /// only DPoP.
    pub mode: DpopModeConfig,
    /// The origin clients call, from which the expected `htu` is formed. Required: the
    /// proxy never takes it from the client's `Host`.
    pub public_base_url: String,
    /// Seconds a proof is accepted after its `iat` (default 60).
    pub proof_lifetime_secs: Option<u64>,
}

/// `mode` of `[dpop]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopModeConfig {
    /// DPoP or Bearer.
    Allowed,
    /// DPoP only.
    Required,
}

/// `[forwarding]`: identity headers, trusted proxies, the public host, timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardingConfig {
    /// Header carrying the token's `sub` to the upstream (default `x-auth-subject`).
    pub subject_header: String,
    /// Header carrying the granted scopes, space-separated (default `x-auth-scopes`).
    pub scopes_header: String,
    /// Header carrying the client id (`azp` or `client_id`; default `x-auth-client-id`).
    pub client_id_header: String,
    /// Header carrying the token's `iss` (default `x-auth-issuer`): with several issuers,
    /// `sub` alone does not say whose user is calling. Empty: not sent (client copies
    /// are still removed under the default name).
    pub issuer_header: String,
    /// More headers the upstream trusts as identity: removed from every client request.
    pub strip_headers: Vec<String>,
    /// Addresses (`10.0.0.7`) or networks (`10.0.0.0/8`) of proxies in front of this
    /// one whose `X-Forwarded-*` and `Forwarded` headers are kept; from anyone else they
    /// are replaced.
    pub trusted_proxies: Vec<String>,
    /// Whether the verified credentials are passed to the upstream (default `true`): the
    /// `Authorization` header on routes that read the token from it alone, a route's
    /// token header and token cookie. `false` withholds all of them.
    pub forward_authorization: bool,
    /// Seconds to wait for the upstream's response headers (default 30); then 504.
    pub upstream_timeout_secs: u64,
    /// The host clients use (`api.example.com`, with `:port` if not the default), sent
    /// as `X-Forwarded-Host` instead of the client's `Host` (default: the client's).
    pub public_host: Option<String>,
    /// Seconds a WebSocket tunnel may go without a byte either way before it is closed
    /// (default 300, at least 1). A tunnel also ends when the token it was opened with
    /// expires.
    pub tunnel_idle_timeout_secs: u64,
}

impl Default for ForwardingConfig {
    fn default() -> Self {
        Self {
            subject_header: "x-auth-subject".into(),
            scopes_header: "x-auth-scopes".into(),
            client_id_header: "x-auth-client-id".into(),
            issuer_header: "x-auth-issuer".into(),
            strip_headers: Vec::new(),
            trusted_proxies: Vec::new(),
            forward_authorization: true,
            upstream_timeout_secs: 30,
            public_host: None,
            tunnel_idle_timeout_secs: 300,
        }
    }
}

/// `[forward_auth]`: an endpoint on the proxy's listener that answers authorization
/// subrequests about an original request described in `X-Original-Method` /
/// `X-Forwarded-Method` and `X-Original-URI` / `X-Forwarded-Uri`, with the same path
/// rules, routes and token checks as a proxied request.
///
/// ```
/// let config: scopegate_proxy::ProxyConfig = toml::from_str(r#"
///     [forward_auth]
///     front_proxies = ["127.0.0.1/32"]
/// "#)?;
/// let forward_auth = config.forward_auth.expect("the section");
/// assert_eq!(forward_auth.path, "/_scopegate/auth");
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardAuthConfig {
    /// The endpoint's path (default `/_scopegate/auth`). Requests for exactly this path
    /// are answered by the proxy itself, never forwarded.
    #[serde(default = "default_forward_auth_path")]
    pub path: String,
    /// Addresses (`10.0.0.7`) or networks (`10.0.0.0/8`) of the front proxies that may
    /// ask; only their description of the original request is believed. Anyone else
    /// is refused with 403. At least one entry.
    pub front_proxies: Vec<String>,
}

/// `[server]`: connection limits and timeouts. Every duration is in whole seconds and at
/// least 1.
///
/// ```
/// let config: scopegate_proxy::ProxyConfig = toml::from_str(r#"
///     [server]
///     max_connections = 4096
///     idle_timeout_secs = 30
/// "#)?;
/// assert_eq!(config.server.max_connections, Some(4096));
/// assert_eq!(config.server.first_byte_timeout_secs, 10);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Client connections open at once (WebSocket tunnels included). At the limit the
    /// proxy stops accepting until one closes; new clients wait in the listen backlog.
    /// Default: 10 000, or fewer when the process's open-file limit is lower (half of
    /// it, less a reserve: each client connection may need one to its upstream).
    pub max_connections: Option<u32>,
    /// Client connections open at once from one address (IPv6: one /64 network); more
    /// are closed as soon as they are accepted. Peers in
    /// `[forwarding] trusted_proxies` are exempt: list a load balancer or sidecar in
    /// front there (127.0.0.1 too). 0: no per-address limit. Default 256.
    pub max_connections_per_ip: u32,
    /// Seconds from accepting a connection until its first bytes tell HTTP/1.1 from
    /// HTTP/2 (for HTTP/2, the whole 24-byte preface); then it is closed. Default 10.
    pub first_byte_timeout_secs: u64,
    /// HTTP/1.1: seconds from the first byte of a request head until the head is
    /// complete; then the connection is closed. Default 30.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay open with no request in progress (HTTP/1.1: and
    /// nothing received; HTTP/2: no open stream, pings do not count); then HTTP/1.1
    /// connections are closed and HTTP/2 ones sent GOAWAY. Default 75.
    pub idle_timeout_secs: u64,
    /// Seconds a write to a client may wait for it to read (the client reads nothing of
    /// the response); then the connection is closed. On HTTP/2 also the seconds a piece
    /// of a stream's response (at most 16 KiB) may wait for the client to give it
    /// flow-control window; then the stream is reset and the upstream's response
    /// dropped. Default 60.
    pub send_timeout_secs: u64,
    /// HTTP/2: seconds between PING frames the proxy sends when it has heard nothing
    /// from the client. Default 20.
    pub h2_keep_alive_interval_secs: u64,
    /// HTTP/2: seconds to wait for a PING's acknowledgement; then the connection is
    /// closed. Default 20.
    pub h2_keep_alive_timeout_secs: u64,
    /// HTTP/2: streams a client may have open at once on one connection (announced in
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`). Default 100, at least 1.
    pub h2_max_concurrent_streams: u32,
    /// Requests forwarded and not yet answered completely, in all (each holds a
    /// connection to its upstream; a WebSocket tunnel counts until it closes). More are
    /// answered 503 with `Retry-After`. Default: `max_connections` (as configured or
    /// derived), at least 1.
    pub max_upstream_requests: Option<u32>,
    /// Of those, from one client address (IPv6: one /64 network); HTTP/2 lets one
    /// connection carry many. More are answered 503 with `Retry-After`. Peers in
    /// `[forwarding] trusted_proxies` are exempt. 0: no per-address limit. Default 256.
    pub max_upstream_requests_per_ip: u32,
    /// On SIGTERM or ctrl-c: seconds that requests in progress get to finish after the
    /// listener is closed; then the remaining connections are cut. Default 20.
    pub drain_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_connections: None,
            max_connections_per_ip: 256,
            first_byte_timeout_secs: 10,
            header_read_timeout_secs: 30,
            idle_timeout_secs: 75,
            send_timeout_secs: 60,
            h2_keep_alive_interval_secs: 20,
            h2_keep_alive_timeout_secs: 20,
            h2_max_concurrent_streams: 100,
            max_upstream_requests: None,
            max_upstream_requests_per_ip: 256,
            drain_timeout_secs: 20,
        }
    }
}

/// One `[[route]]`: requests whose path is `prefix` or below it (whole segments), with
/// one of `methods` (all when empty), go to `upstream` when the rule holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Path prefix, matched on whole segments (`/orders` matches `/orders/1`, not `/orderly`).
    pub prefix: String,
    /// HTTP methods; empty: any.
    #[serde(default)]
    pub methods: Vec<String>,
    /// `http://host:port` of the service.
    pub upstream: String,
    /// No token needed (a presented token is still verified).
    #[serde(default)]
    pub public: bool,
    /// Scopes needed; without `require` and `public`, any valid token.
    pub require: Option<RequireConfig>,
    /// Where this route reads the token (same spelling as the top-level
    /// `token_sources`); default: the top-level setting.
    pub token_sources: Option<Vec<String>>,
}

/// `require.all = [...]` or `require.any = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequireConfig {
    /// Every one of these scopes.
    pub all: Option<Vec<String>>,
    /// At least one of these scopes.
    pub any: Option<Vec<String>>,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProxyConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not parse or has unknown fields (with line and column).
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    /// A route is wrong; the message says which and why.
    #[error("route {index} ({prefix}): {problem}")]
    Route {
        /// Position in the file, from 1.
        index: usize,
        /// Its prefix.
        prefix: String,
        /// What is wrong.
        problem: String,
    },
    /// `[forwarding]` is wrong.
    #[error("[forwarding]: {0}")]
    Forwarding(String),
    /// `[forward_auth]` is wrong.
    #[error("[forward_auth]: {0}")]
    ForwardAuth(String),
    /// `[server]` is wrong.
    #[error("[server]: {0}")]
    Server(String),
    /// The verifier cannot be built from `[issuer]`.
    #[error("[issuer]: {0}")]
    Issuer(#[from] scopegate_core::ConfigError),
    /// `[dpop]` is wrong.
    #[error("[dpop]: {0}")]
    Dpop(String),
    /// A `token_sources` entry is not `authorization`, `cookie:<name>` or `header:<name>`.
    #[error("token_sources: `{0}` is not authorization, cookie:<name> or header:<name>")]
    TokenSource(String),
}

impl ProxyConfig {
    /// Reads and parses a configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ProxyConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProxyConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Ok(toml::from_str(&text)?)
    }

    /// A verifier for `[issuer]` (keys discovered from each issuer) and `[dpop]`; `None`
    /// without `[issuer]`.
    pub fn verifier(&self) -> Result<Option<Verifier>, ProxyConfigError> {
        let Some(issuer) = &self.issuer else {
            return Ok(None);
        };
        let config = VerifierConfig::new(issuer.url.clone(), issuer.audience.clone());
        let config = issuer
            .aliases
            .iter()
            .fold(config, |config, alias| config.issuer_alias(alias.clone()));
        let config = issuer
            .additional_audiences
            .iter()
            .fold(config, |config, audience| config.audience(audience.clone()));
        let config = issuer.additional.iter().fold(config, |config, other| {
            let named = other
                .aliases
                .iter()
                .fold(Issuer::new(other.url.clone()), |issuer, alias| {
                    issuer.alias(alias.clone())
                });
            config.additional_issuer(named)
        });
        Ok(Some(self.with_dpop(config)?.build()?))
    }

    /// `config` with `[dpop]` applied, if present.
    pub fn with_dpop(&self, config: VerifierConfig) -> Result<VerifierConfig, ProxyConfigError> {
        let Some(dpop) = &self.dpop else {
            return Ok(config);
        };
        let settings = match dpop.mode {
            DpopModeConfig::Allowed => Dpop::allowed(),
            DpopModeConfig::Required => Dpop::required(),
        };
        let settings = settings
            .public_base_url(&dpop.public_base_url)
            .map_err(|_| {
                ProxyConfigError::Dpop("public_base_url must be an http(s) origin".into())
            })?;
        let settings = match dpop.proof_lifetime_secs {
            Some(0) => {
                return Err(ProxyConfigError::Dpop(
                    "proof_lifetime_secs must be at least 1".into(),
                ));
            }
            Some(secs) => settings.proof_lifetime(Duration::from_secs(secs)),
            None => settings,
        };
        Ok(config.dpop(settings))
    }

    /// The top-level token sources, parsed; `None` for the `Authorization` header alone.
    pub fn token_sources(&self) -> Result<Option<Vec<TokenSource>>, ProxyConfigError> {
        parse_token_sources(self.token_sources.as_deref())
    }

    /// The trusted proxies, parsed.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ProxyConfigError> {
        TrustedProxies::parse(&self.forwarding.trusted_proxies).map_err(|entry| {
            ProxyConfigError::Forwarding(format!(
                "trusted_proxies: `{entry}` is not an address or network"
            ))
        })
    }
}

/// `token_sources` entries as core's [`TokenSource`]s.
pub(crate) fn parse_token_sources(
    entries: Option<&[String]>,
) -> Result<Option<Vec<TokenSource>>, ProxyConfigError> {
    let Some(entries) = entries else {
        return Ok(None);
    };
    let invalid = |entry: &str| ProxyConfigError::TokenSource(entry.to_owned());
    if entries.is_empty() {
        return Err(invalid(""));
    }
    entries
        .iter()
        .map(|entry| {
            let source = match entry.split_once(':') {
                None if entry == "authorization" => TokenSource::Authorization,
                Some(("cookie", name)) if is_token(name) => TokenSource::cookie(name),
                Some(("header", name))
                    if is_token(name) && HeaderName::from_bytes(name.as_bytes()).is_ok() =>
                {
                    TokenSource::header(name)
                }
                _ => return Err(invalid(entry)),
            };
            Ok(source)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// An RFC 9110 token: a cookie or header name.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&'*+-.^_`|~".contains(&b))
}

fn default_forward_auth_path() -> String {
    "/_scopegate/auth".into()
}

fn default_listen() -> SocketAddr {
    SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 8080)
}
