//! Remembering DPoP proof ids (`jti`) so a proof is accepted once (RFC 9449 §11.1).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Where used DPoP proof ids are remembered. The default, [`MemoryReplayStore`], serves
/// one process; implement this over a shared store (Redis, a database) so that a fleet
/// of instances accepts each proof once.
pub trait ReplayStore: fmt::Debug + Send + Sync + 'static {
    /// Records `id` as used until `expires_at` (seconds since the epoch; `now` is the
    /// verifier's clock). Returns `false` if `id` was used before and has not expired,
    /// or if it cannot be recorded: a proof that cannot be remembered is refused.
    fn first_use(&self, id: &str, expires_at: u64, now: u64) -> bool;
}

/// A bounded in-memory [`ReplayStore`]: ids are dropped when they expire; when the store
/// is full of unexpired ids, new proofs are refused until some expire (fail closed).
#[derive(Debug)]
pub struct MemoryReplayStore {
    entries: Mutex<HashMap<Box<str>, u64>>,
    capacity: usize,
}

impl MemoryReplayStore {
    /// Proof ids remembered at most by default: 100 000 (a few MiB).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store remembering at most `capacity` unexpired ids.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl ReplayStore for MemoryReplayStore {
    fn first_use(&self, id: &str, expires_at: u64, now: u64) -> bool {
        let Ok(mut entries) = self.entries.lock() else {
            return false;
        };
        if let Some(&until) = entries.get(id)
            && until > now
        {
            return false;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, until| *until > now);
            if entries.len() >= self.capacity {
                return false;
            }
        }
        entries.insert(Box::from(id), expires_at);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_accepted_once_until_it_expires() {
        let store = MemoryReplayStore::new(10);
        assert!(store.first_use("a", 100, 50));
        assert!(!store.first_use("a", 100, 99));
        assert!(store.first_use("a", 200, 100), "expired ids may come back");
        assert!(store.first_use("b", 100, 50));
    }

    #[test]
    fn a_full_store_drops_expired_ids_and_otherwise_refuses() {
        let store = MemoryReplayStore::new(2);
        assert!(store.first_use("a", 100, 0));
        assert!(store.first_use("b", 200, 0));
        assert!(
            !store.first_use("c", 300, 50),
            "full of unexpired ids: refused"
        );
        assert!(store.first_use("c", 300, 150), "a expired and made room");
    }
}
