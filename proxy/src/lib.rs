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
//! - Forward-auth mode ([`ForwardAuthConfig`]): for nginx `auth_request` or Traefik
//!   `forwardAuth`, the proxy answers a subrequest describing the original request with
//!   the same decision, and the identity headers to copy to the upstream.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use scopegate_proxy::{Proxy, ProxyConfig};
//!
//! let config = ProxyConfig::from_file("proxy.toml".as_ref())?;
//! let verifier = config.verifier()?.expect("an [issuer] section");
//! let proxy = Proxy::new(&config, verifier)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! scopegate_proxy::serve(listener, proxy).await;
//! # Ok(())
//! # }
//! ```

mod config;
mod forward_auth;
mod headers;
mod path;
mod proxy;
mod routes;
mod server;
mod trusted;

pub use config::{
    ForwardAuthConfig, ForwardingConfig, IssuerConfig, ProxyConfig, ProxyConfigError,
    RequireConfig, RouteConfig,
};
pub use headers::{HeaderPolicy, Origin};
pub use path::{PathError, canonical_path};
pub use proxy::{Proxy, ProxyBody};
pub use routes::{Route, Routes};
pub use server::serve;
pub use trusted::TrustedProxies;
