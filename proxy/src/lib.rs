//! # scopegate-proxy
//!
//! An identity-aware reverse proxy for services in any language: each request's bearer
//! token is verified by `scopegate-core` and checked against the route's rule before the
//! request reaches the upstream, which receives the caller's identity in headers it can
//! trust.
//!
//! - Routes from TOML ([`ProxyConfig`]): path prefix on whole segments, methods,
//!   upstream, `public` or `require.all` / `require.any`; a request no route matches is
//!   refused (401 without a token, 403 with one).
//! - One reading: a request is forwarded only when every plausible reading of it by the
//!   upstream is authorized the same way; anything ambiguous is refused with 400.
//! - The path that is authorized is the path that is forwarded: dot segments, `//`,
//!   `%2F`, `%5C`, `%25` (double encoding), `;`, encoded control characters, escapes that
//!   are not shortest-form UTF-8, and names Windows reads as other names (`admin.`,
//!   `admin%20`, `...`, `ADMINI~1`, `x::$DATA`, fullwidth `／`) are refused (400);
//!   encoded unreserved characters are decoded. A path whose case-folded reading selects
//!   another route (`/ORDERS` where `/orders` is scoped) is refused ([`Routes::find`]).
//! - `CONNECT`, `TRACE` and `TRACK` are refused (405), methods with lower-case letters,
//!   transfer codings other than one `chunked`, and two or disagreeing hosts (400); a
//!   malformed or cut-short request body is a 400, not a 502.
//! - Hop-by-hop headers are dropped; the identity headers (`x-auth-subject`,
//!   `x-auth-scopes`, `x-auth-client-id`, and any configured) and the method and URL
//!   overrides (`X-HTTP-Method-Override`, `X-Original-URL`, ...), in every case and with
//!   `_` for `-`, are removed from clients' requests; every `X-Forwarded-*` and the
//!   client-IP family (`Forwarded`, `X-Real-IP`, `True-Client-IP`, ...) are kept only from
//!   configured trusted proxies; `X-Forwarded-For/-Proto/-Host` are set (the host from
//!   `public_host` when configured).
//! - Bodies are streamed both ways; only WebSocket upgrades are tunnelled, after the
//!   upgrade request passed the same checks, until the token expires or the tunnel is
//!   idle for `tunnel_idle_timeout_secs`.
//! - Forward-auth mode ([`ForwardAuthConfig`]): for nginx `auth_request` or Traefik
//!   `forwardAuth`, the proxy answers a subrequest describing the original request with
//!   the same decision, and the identity headers to copy to the upstream.
//! - Connections are bounded ([`ServerLimits`], `[server]`): a total and a per-address
//!   limit, first-byte, header-read, idle and send timeouts (HTTP/2: per stream too),
//!   HTTP/2 keep-alive PINGs and a stream limit; requests in flight to upstreams are
//!   bounded in all and per address (503 beyond); [`serve_with_shutdown`] drains
//!   requests in progress when told to stop.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use scopegate_proxy::{Proxy, ProxyConfig, ServerLimits};
//!
//! let config = ProxyConfig::from_file("proxy.toml".as_ref())?;
//! let verifier = config.verifier()?.expect("an [issuer] section");
//! let proxy = Proxy::new(&config, verifier)?;
//! let limits = ServerLimits::from_config(&config)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! let ctrl_c = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! let _drained = scopegate_proxy::serve_with_shutdown(listener, proxy, limits, ctrl_c).await;
//! # Ok(())
//! # }
//! ```

mod activity;
mod case_fold;
mod client_stream;
mod config;
mod connection;
mod credentials;
mod forward_auth;
mod headers;
mod limits;
mod message;
mod open_files;
mod path;
mod proxy;
mod request_body;
mod routes;
mod server;
mod slots;
mod sniff;
mod stream_stall;
mod trusted;
mod tunnel;
mod upgrade;
mod upstream_permits;

pub use config::{
    ForwardAuthConfig, ForwardingConfig, IssuerConfig, ProxyConfig, ProxyConfigError,
    RequireConfig, RouteConfig, ServerConfig,
};
pub use headers::{HeaderPolicy, Origin};
pub use limits::ServerLimits;
pub use path::{PathError, canonical_path};
pub use proxy::{Proxy, ProxyBody};
pub use routes::{CaseConflict, Route, Routes};
pub use server::{Drain, serve, serve_with_shutdown};
pub use trusted::TrustedProxies;
