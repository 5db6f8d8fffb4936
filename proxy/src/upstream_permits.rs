//! Permits for requests to upstreams: how many may be in flight at once, in all and from
//! one client address. Each holds an upstream connection (a descriptor) until its
//! response has been passed on or dropped, or its WebSocket tunnel has closed; HTTP/2
//! lets one client connection carry many, so the connection limits alone do not bound
//! them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::config::{ProxyConfigError, ServerConfig};
use crate::open_files::default_max_connections;
use crate::slots::address_key;
use crate::trusted::TrustedProxies;

/// The permits of one proxy. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamPermits(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    max_total: u32,
    in_flight: AtomicU32,
    /// 0: no per-address limit.
    max_per_address: u32,
    exempt: TrustedProxies,
    per_address: Mutex<HashMap<IpAddr, u32>>,
}

/// One request's permit; given back when dropped.
#[derive(Debug)]
pub(crate) struct UpstreamPermit {
    shared: Arc<Shared>,
    address: Option<IpAddr>,
}

impl UpstreamPermits {
    /// From `[server]`: `max_upstream_requests` (default: the connection limit) and
    /// `max_upstream_requests_per_ip`, from which peers in `exempt` are exempt.
    pub(crate) fn new(
        server: &ServerConfig,
        exempt: TrustedProxies,
    ) -> Result<Self, ProxyConfigError> {
        let max_total = match server.max_upstream_requests {
            Some(0) => {
                return Err(ProxyConfigError::Server(
                    "max_upstream_requests must be at least 1".into(),
                ));
            }
            Some(max) => max,
            None => match server.max_connections {
                Some(max) if max > 0 => max,
                _ => default_max_connections(),
            },
        };
        Ok(Self(Arc::new(Shared {
            max_total,
            in_flight: AtomicU32::new(0),
            max_per_address: server.max_upstream_requests_per_ip,
            exempt,
            per_address: Mutex::new(HashMap::new()),
        })))
    }

    /// A permit for a request from `peer`, or `None` when the proxy or `peer`'s address
    /// has as many in flight as it may.
    pub(crate) fn try_acquire(&self, peer: IpAddr) -> Option<UpstreamPermit> {
        let shared = &self.0;
        shared
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < shared.max_total).then(|| n + 1)
            })
            .ok()?;
        // From here the permit gives the total back when dropped.
        let mut permit = UpstreamPermit {
            shared: Arc::clone(shared),
            address: None,
        };
        if shared.max_per_address == 0 || shared.exempt.contains(peer) {
            return Some(permit);
        }
        let key = address_key(peer);
        let mut per_address = shared
            .per_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = per_address.entry(key).or_insert(0);
        if *count >= shared.max_per_address {
            return None;
        }
        *count += 1;
        drop(per_address);
        permit.address = Some(key);
        Some(permit)
    }
}

impl Drop for UpstreamPermit {
    fn drop(&mut self) {
        if let Some(key) = self.address.take() {
            let mut per_address = self
                .shared
                .per_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = per_address.get_mut(&key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    per_address.remove(&key);
                }
            }
        }
        self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An upstream's response body, holding its request's permit until it is dropped.
#[derive(Debug)]
pub(crate) struct PermittedBody {
    body: Incoming,
    _permit: UpstreamPermit,
}

impl PermittedBody {
    /// `body`, holding `permit`.
    pub(crate) fn new(body: Incoming, permit: UpstreamPermit) -> Self {
        Self {
            body,
            _permit: permit,
        }
    }
}

impl Body for PermittedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProxyConfig;

    fn permits(toml: &str) -> UpstreamPermits {
        let config: ProxyConfig = toml::from_str(toml).expect("toml");
        UpstreamPermits::new(&config.server, config.trusted_proxies().expect("trusted"))
            .expect("permits")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn one_address_gets_at_most_its_share_and_others_still_get_theirs() {
        let permits = permits("[server]\nmax_upstream_requests_per_ip = 2\n");
        let first = permits.try_acquire(ip("192.0.2.1"));
        let second = permits.try_acquire(ip("192.0.2.1"));
        assert!(first.is_some() && second.is_some());
        assert!(permits.try_acquire(ip("192.0.2.1")).is_none());
        assert!(
            permits.try_acquire(ip("::ffff:192.0.2.1")).is_none(),
            "the IPv4-mapped spelling is the same client"
        );
        assert!(permits.try_acquire(ip("192.0.2.2")).is_some());
        assert_eq!(
            permits.0.in_flight.load(Ordering::Acquire),
            2,
            "refused and dropped permits give their share of the total back"
        );
        drop(first);
        assert!(permits.try_acquire(ip("192.0.2.1")).is_some());
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_64_network() {
        let permits = permits("[server]\nmax_upstream_requests_per_ip = 1\n");
        let _held = permits.try_acquire(ip("2001:db8:1:2::1")).expect("first");
        assert!(permits.try_acquire(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(permits.try_acquire(ip("2001:db8:1:3::1")).is_some());
    }

    #[test]
    fn the_total_bounds_every_address_together() {
        let permits = permits("[server]\nmax_upstream_requests = 2\n");
        let _first = permits.try_acquire(ip("192.0.2.1")).expect("first");
        let second = permits.try_acquire(ip("192.0.2.2")).expect("second");
        assert!(permits.try_acquire(ip("192.0.2.3")).is_none());
        drop(second);
        assert!(permits.try_acquire(ip("192.0.2.3")).is_some());
    }

    #[test]
    fn the_total_defaults_to_the_connection_limit() {
        let permits = permits("[server]\nmax_connections = 3\nmax_upstream_requests_per_ip = 0\n");
        let held: Vec<_> = (1..=3)
            .map(|host| permits.try_acquire(ip(&format!("192.0.2.{host}"))))
            .collect();
        assert!(held.iter().all(Option::is_some));
        assert!(permits.try_acquire(ip("192.0.2.4")).is_none());
    }

    #[test]
    fn trusted_proxies_are_not_limited_per_address() {
        let permits = permits(
            "[server]\nmax_upstream_requests_per_ip = 1\n[forwarding]\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
        );
        let held: Vec<_> = (0..5)
            .map(|_| permits.try_acquire(ip("10.1.2.3")))
            .collect();
        assert!(held.iter().all(Option::is_some));
    }

    #[test]
    fn a_total_of_zero_is_refused() {
        let config: ProxyConfig =
            toml::from_str("[server]\nmax_upstream_requests = 0\n").expect("toml");
        let error =
            UpstreamPermits::new(&config.server, TrustedProxies::default()).expect_err("zero");
        assert_eq!(
            error.to_string(),
            "[server]: max_upstream_requests must be at least 1"
        );
    }
}
