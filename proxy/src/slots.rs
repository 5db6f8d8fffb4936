//! Connection slots: how many client connections may be open at once, in all and from
//! one address. A slot is held for as long as the client's socket is open, through an
//! upgrade too.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::trusted::TrustedProxies;

/// The slots of one server.
#[derive(Debug)]
pub(crate) struct ConnectionSlots {
    total: Arc<Semaphore>,
    max_total: u32,
    per_address: Option<Arc<PerAddress>>,
}

#[derive(Debug)]
struct PerAddress {
    max: u32,
    exempt: TrustedProxies,
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One free slot of the total, not yet given to a peer.
#[derive(Debug)]
pub(crate) struct FreeSlot(OwnedSemaphorePermit);

/// A connection's slot; the connection counts as open until it is dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    _total: OwnedSemaphorePermit,
    address: Option<(Arc<PerAddress>, IpAddr)>,
}

impl ConnectionSlots {
    /// `max_total` connections, at most `max_per_address` from one address (0: no
    /// such limit) unless the peer is in `exempt`.
    pub(crate) fn new(max_total: u32, max_per_address: u32, exempt: TrustedProxies) -> Self {
        let most = u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX);
        let max_total = max_total.min(most);
        Self {
            total: Arc::new(Semaphore::new(max_total as usize)),
            max_total,
            per_address: (max_per_address > 0).then(|| {
                Arc::new(PerAddress {
                    max: max_per_address,
                    exempt,
                    open: Mutex::new(HashMap::new()),
                })
            }),
        }
    }

    /// Waits until fewer than `max_total` connections are open.
    pub(crate) async fn free_slot(&self) -> FreeSlot {
        // The semaphore is never closed, so acquiring only waits.
        loop {
            if let Ok(permit) = Arc::clone(&self.total).acquire_owned().await {
                return FreeSlot(permit);
            }
        }
    }

    /// The slot for a connection from `peer`, or `None` when its address already has
    /// as many open as it may.
    pub(crate) fn claim(&self, free: FreeSlot, peer: IpAddr) -> Option<Slot> {
        let Some(per_address) = &self.per_address else {
            return Some(Slot {
                _total: free.0,
                address: None,
            });
        };
        if per_address.exempt.contains(peer) {
            return Some(Slot {
                _total: free.0,
                address: None,
            });
        }
        let key = address_key(peer);
        let mut open = per_address
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= per_address.max {
            return None;
        }
        *count += 1;
        drop(open);
        Some(Slot {
            _total: free.0,
            address: Some((Arc::clone(per_address), key)),
        })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> u32 {
        let available = u32::try_from(self.total.available_permits()).unwrap_or(u32::MAX);
        self.max_total.saturating_sub(available)
    }

    /// Waits until every connection is closed.
    pub(crate) async fn all_closed(&self) {
        let _all = self.total.acquire_many(self.max_total).await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some((per_address, key)) = self.address.take() else {
            return;
        };
        let mut open = per_address
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

/// What counts as one client address: an IPv4 address (IPv4-mapped IPv6 included), or
/// an IPv6 /64 network, since one host commonly holds a whole /64.
pub(crate) fn address_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[tokio::test]
    async fn one_address_gets_at_most_its_share_others_still_get_slots() {
        let slots = ConnectionSlots::new(10, 2, TrustedProxies::default());
        let first = slots.claim(slots.free_slot().await, ip("192.0.2.1"));
        let second = slots.claim(slots.free_slot().await, ip("192.0.2.1"));
        assert!(first.is_some() && second.is_some());
        assert!(
            slots
                .claim(slots.free_slot().await, ip("192.0.2.1"))
                .is_none()
        );
        assert!(
            slots
                .claim(slots.free_slot().await, ip("::ffff:192.0.2.1"))
                .is_none(),
            "the IPv4-mapped spelling is the same client"
        );
        let other = slots.claim(slots.free_slot().await, ip("192.0.2.2"));
        assert!(other.is_some());
        assert_eq!(slots.open(), 3, "refused claims give their slot back");
        drop(first);
        assert!(
            slots
                .claim(slots.free_slot().await, ip("192.0.2.1"))
                .is_some(),
            "a closed connection frees its address's share"
        );
    }

    #[tokio::test]
    async fn an_ipv6_host_is_counted_by_its_64_network() {
        let slots = ConnectionSlots::new(10, 1, TrustedProxies::default());
        let held = slots.claim(slots.free_slot().await, ip("2001:db8:1:2::1"));
        assert!(held.is_some());
        assert!(
            slots
                .claim(slots.free_slot().await, ip("2001:db8:1:2:ffff::9"))
                .is_none()
        );
        assert!(
            slots
                .claim(slots.free_slot().await, ip("2001:db8:1:3::1"))
                .is_some()
        );
    }

    #[tokio::test]
    async fn trusted_proxies_are_not_limited_per_address() {
        let exempt = TrustedProxies::parse(&["10.0.0.0/8".to_owned()]).expect("networks");
        let slots = ConnectionSlots::new(10, 1, exempt);
        let held: Vec<_> = (0..5)
            .map(|_| {
                slots.claim(
                    FreeSlot(slots.total.clone().try_acquire_owned().expect("free")),
                    ip("10.1.2.3"),
                )
            })
            .collect();
        assert!(held.iter().all(Option::is_some));
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_total_limit_a_slot_is_free_only_once_a_connection_closes() {
        let slots = ConnectionSlots::new(2, 0, TrustedProxies::default());
        let first = slots.claim(slots.free_slot().await, ip("192.0.2.1"));
        let _second = slots.claim(slots.free_slot().await, ip("192.0.2.2"));
        let waiting =
            tokio::time::timeout(std::time::Duration::from_secs(60), slots.free_slot()).await;
        assert!(waiting.is_err(), "no slot while two are open");
        drop(first);
        let free = tokio::time::timeout(std::time::Duration::from_secs(1), slots.free_slot()).await;
        assert!(free.is_ok());
    }
}
