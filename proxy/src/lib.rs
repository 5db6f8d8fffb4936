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
//! - The path that is authorized is the path that is forwarded: dot segments, `//`,
//!   `%2F`, `%5C`, `%25` (double encoding), `;` and encoded control characters are refused
//!   (400); encoded unreserved characters are decoded.
//! - Hop-by-hop headers are dropped; the identity headers (`x-auth-subject`,
//!   `x-auth-scopes`, `x-auth-client-id`, and any configured), in every case and with `_`
//!   for `-`, are removed from clients' requests and set from the verified token;
//!   `X-Forwarded-For/-Proto/-Host` are set, keeping earlier values only from configured
//!   trusted proxies.
//! - Bodies are streamed both ways; WebSocket (and other `Upgrade`) connections are
//!   tunnelled after the upgrade request passed the same checks.
//! - Connections are bounded ([`ServerLimits`], `[server]`): a total and a per-address
//!   limit, first-byte, header-read, idle and send timeouts, HTTP/2 keep-alive PINGs;
//!   [`serve_with_shutdown`] drains requests in progress when told to stop.
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
mod client_stream;
mod config;
mod connection;
mod headers;
mod limits;
mod open_files;
mod path;
mod proxy;
mod routes;
mod server;
mod slots;
mod sniff;
mod trusted;

pub use config::{
    ForwardingConfig, IssuerConfig, ProxyConfig, ProxyConfigError, RequireConfig, RouteConfig,
    ServerConfig,
};
pub use headers::{HeaderPolicy, Origin};
pub use limits::ServerLimits;
pub use path::{PathError, canonical_path};
pub use proxy::{Proxy, ProxyBody};
pub use routes::{Route, Routes};
pub use server::{Drain, serve, serve_with_shutdown};
pub use trusted::TrustedProxies;
