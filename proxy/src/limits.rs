//! The limits the server applies to client connections, checked from `[server]`.

use std::time::Duration;

use crate::config::{ProxyConfig, ProxyConfigError, ServerConfig};
use crate::open_files::{default_max_connections, open_files_limit};
use crate::trusted::TrustedProxies;

/// Connection limits and timeouts for [`serve_with_shutdown`](crate::serve_with_shutdown),
/// from the configuration's `[server]` section (see [`ServerConfig`] for each one's
/// meaning and default).
///
/// ```
/// let config: scopegate_proxy::ProxyConfig = toml::from_str(r#"
///     [server]
///     max_connections = 512
///     drain_timeout_secs = 5
/// "#)?;
/// let limits = scopegate_proxy::ServerLimits::from_config(&config)?;
/// assert_eq!(limits.max_connections(), 512);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub(crate) max_connections: u32,
    pub(crate) max_connections_per_ip: u32,
    pub(crate) unlimited_peers: TrustedProxies,
    pub(crate) first_byte_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) send_timeout: Duration,
    pub(crate) h2_keep_alive_interval: Duration,
    pub(crate) h2_keep_alive_timeout: Duration,
    pub(crate) h2_max_concurrent_streams: u32,
    pub(crate) drain_timeout: Duration,
}

impl Default for ServerLimits {
    /// The defaults of `[server]`, with no trusted proxies.
    fn default() -> Self {
        Self::new(&ServerConfig::default(), TrustedProxies::default())
            .unwrap_or_else(|_| unreachable!("the defaults are valid"))
    }
}

impl ServerLimits {
    /// The limits of `config`'s `[server]` section; its trusted proxies are exempt from
    /// the per-address limit.
    pub fn from_config(config: &ProxyConfig) -> Result<Self, ProxyConfigError> {
        Self::new(&config.server, config.trusted_proxies()?)
    }

    fn new(server: &ServerConfig, trusted: TrustedProxies) -> Result<Self, ProxyConfigError> {
        let seconds = |name: &str, value: u64| {
            if value == 0 {
                return Err(ProxyConfigError::Server(format!(
                    "{name} must be at least 1"
                )));
            }
            Ok(Duration::from_secs(value))
        };
        let max_connections = match server.max_connections {
            Some(0) => {
                return Err(ProxyConfigError::Server(
                    "max_connections must be at least 1".into(),
                ));
            }
            Some(max) => max,
            None => default_max_connections(),
        };
        if server.max_connections.is_some() || server.max_upstream_requests.is_some() {
            warn_if_beyond_open_files(
                max_connections,
                server.max_upstream_requests.unwrap_or(max_connections),
            );
        }
        Ok(Self {
            max_connections,
            max_connections_per_ip: server.max_connections_per_ip,
            unlimited_peers: trusted,
            first_byte_timeout: seconds("first_byte_timeout_secs", server.first_byte_timeout_secs)?,
            header_read_timeout: seconds(
                "header_read_timeout_secs",
                server.header_read_timeout_secs,
            )?,
            idle_timeout: seconds("idle_timeout_secs", server.idle_timeout_secs)?,
            send_timeout: seconds("send_timeout_secs", server.send_timeout_secs)?,
            h2_keep_alive_interval: seconds(
                "h2_keep_alive_interval_secs",
                server.h2_keep_alive_interval_secs,
            )?,
            h2_keep_alive_timeout: seconds(
                "h2_keep_alive_timeout_secs",
                server.h2_keep_alive_timeout_secs,
            )?,
            h2_max_concurrent_streams: match server.h2_max_concurrent_streams {
                0 => {
                    return Err(ProxyConfigError::Server(
                        "h2_max_concurrent_streams must be at least 1".into(),
                    ));
                }
                streams => streams,
            },
            drain_timeout: seconds("drain_timeout_secs", server.drain_timeout_secs)?,
        })
    }

    /// Client connections open at once.
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// How long requests in progress get to finish once shutdown begins.
    pub fn drain_timeout(&self) -> Duration {
        self.drain_timeout
    }
}

/// Configured limits the open-file limit cannot hold show up as failed accepts and
/// upstream connections, so say so at startup: each client connection takes a
/// descriptor, and each request in flight one more to its upstream.
fn warn_if_beyond_open_files(max_connections: u32, max_upstream_requests: u32) {
    if let Some(limit) = open_files_limit()
        && u64::from(max_connections) + u64::from(max_upstream_requests) > limit
    {
        tracing::warn!(
            target: "scopegate::proxy",
            max_connections,
            max_upstream_requests,
            open_files_limit = limit,
            "max_connections and max_upstream_requests need a descriptor each; raise the open-file limit (ulimit -n)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(toml: &str) -> Result<ServerLimits, ProxyConfigError> {
        ServerLimits::from_config(&toml::from_str(toml).expect("toml"))
    }

    #[test]
    fn defaults_apply_without_a_server_section() {
        let limits = limits("").expect("defaults");
        assert!((1..=10_000).contains(&limits.max_connections));
        assert_eq!(limits.max_connections_per_ip, 256);
        assert_eq!(limits.first_byte_timeout, Duration::from_secs(10));
        assert_eq!(limits.header_read_timeout, Duration::from_secs(30));
        assert_eq!(limits.idle_timeout, Duration::from_secs(75));
        assert_eq!(limits.send_timeout, Duration::from_secs(60));
        assert_eq!(limits.h2_keep_alive_interval, Duration::from_secs(20));
        assert_eq!(limits.h2_keep_alive_timeout, Duration::from_secs(20));
        assert_eq!(limits.h2_max_concurrent_streams, 100);
        assert_eq!(limits.drain_timeout, Duration::from_secs(20));
    }

    #[test]
    fn configured_values_are_used() {
        let limits = limits(
            "[server]\nmax_connections = 4\nmax_connections_per_ip = 0\nfirst_byte_timeout_secs = 1\nidle_timeout_secs = 2\n",
        )
        .expect("limits");
        assert_eq!(limits.max_connections, 4);
        assert_eq!(limits.max_connections_per_ip, 0);
        assert_eq!(limits.first_byte_timeout, Duration::from_secs(1));
        assert_eq!(limits.idle_timeout, Duration::from_secs(2));
    }

    #[test]
    fn zero_limits_and_timeouts_are_refused_not_taken_as_none() {
        for key in [
            "max_connections",
            "first_byte_timeout_secs",
            "header_read_timeout_secs",
            "idle_timeout_secs",
            "send_timeout_secs",
            "h2_keep_alive_interval_secs",
            "h2_keep_alive_timeout_secs",
            "h2_max_concurrent_streams",
            "drain_timeout_secs",
        ] {
            let error = limits(&format!("[server]\n{key} = 0\n")).expect_err(key);
            assert_eq!(
                error.to_string(),
                format!("[server]: {key} must be at least 1")
            );
        }
    }

    #[test]
    fn unknown_keys_and_negative_values_do_not_parse() {
        assert!(toml::from_str::<ProxyConfig>("[server]\nmax_conections = 4\n").is_err());
        assert!(toml::from_str::<ProxyConfig>("[server]\nidle_timeout_secs = -1\n").is_err());
        assert!(toml::from_str::<ProxyConfig>("[server]\nmax_connections = 5000000000\n").is_err());
    }
}
