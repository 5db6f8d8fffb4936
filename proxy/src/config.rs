//! The proxy's TOML configuration: where it listens, which issuer it trusts, how it
//! forwards, and its routes.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

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
    /// The issuer whose tokens are accepted; without it the embedded dev issuer runs.
    pub issuer: Option<IssuerConfig>,
    /// How requests are forwarded.
    #[serde(default)]
    pub forwarding: ForwardingConfig,
    /// How client connections are accepted, timed out and drained.
    #[serde(default)]
    pub server: ServerConfig,
    /// The routes (`[[route]]` tables). A request no route matches is refused.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
}

/// `[issuer]`: the issuer as tokens name it (`iss`; keys discovered from it) and the
/// audience tokens must carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL exactly as in `iss` (Auth0: with the trailing slash).
    pub url: String,
    /// The API identifier.
    pub audience: String,
}

/// `[forwarding]`: identity headers, trusted proxies, the upstream timeout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardingConfig {
    /// Header carrying the token's `sub` to the upstream (default `x-auth-subject`).
    pub subject_header: String,
    /// Header carrying the granted scopes, space-separated (default `x-auth-scopes`).
    pub scopes_header: String,
    /// Header carrying the client id (`azp` or `client_id`; default `x-auth-client-id`).
    pub client_id_header: String,
    /// More headers the upstream trusts as identity: removed from every client request.
    pub strip_headers: Vec<String>,
    /// Addresses (`10.0.0.7`) or networks (`10.0.0.0/8`) of proxies in front of this
    /// one whose `X-Forwarded-*` and `Forwarded` headers are kept; from anyone else they
    /// are replaced.
    pub trusted_proxies: Vec<String>,
    /// Whether the `Authorization` header is passed to the upstream (default `true`).
    pub forward_authorization: bool,
    /// Seconds to wait for the upstream's response headers (default 30); then 504.
    pub upstream_timeout_secs: u64,
}

impl Default for ForwardingConfig {
    fn default() -> Self {
        Self {
            subject_header: "x-auth-subject".into(),
            scopes_header: "x-auth-scopes".into(),
            client_id_header: "x-auth-client-id".into(),
            strip_headers: Vec::new(),
            trusted_proxies: Vec::new(),
            forward_authorization: true,
            upstream_timeout_secs: 30,
        }
    }
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
    /// the response); then the connection is closed. Default 60.
    pub send_timeout_secs: u64,
    /// HTTP/2: seconds between PING frames the proxy sends when it has heard nothing
    /// from the client. Default 20.
    pub h2_keep_alive_interval_secs: u64,
    /// HTTP/2: seconds to wait for a PING's acknowledgement; then the connection is
    /// closed. Default 20.
    pub h2_keep_alive_timeout_secs: u64,
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
    /// `[server]` is wrong.
    #[error("[server]: {0}")]
    Server(String),
    /// The verifier cannot be built from `[issuer]`.
    #[error("[issuer]: {0}")]
    Issuer(#[from] scopegate_core::ConfigError),
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

    /// A verifier for `[issuer]` (keys discovered from the issuer); `None` without one.
    pub fn verifier(
        &self,
    ) -> Result<Option<scopegate_core::Verifier>, scopegate_core::ConfigError> {
        self.issuer
            .as_ref()
            .map(|issuer| {
                scopegate_core::VerifierConfig::new(issuer.url.clone(), issuer.audience.clone())
                    .build()
            })
            .transpose()
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

fn default_listen() -> SocketAddr {
    SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 8080)
}
