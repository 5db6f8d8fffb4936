//! The verified-token cache: a token seen before is accepted without re-checking its
//! signature, while everything that can change is still checked.

use std::hash::BuildHasher;

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Weighter};

use crate::token::VerifiedToken;

/// What a cached verification remembers.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub(crate) token: VerifiedToken,
    /// The trusted issuer whose keys verified it.
    pub(crate) issuer: usize,
    /// The `kid` the token named, to look the current key set up again.
    pub(crate) kid: Option<Box<str>>,
    /// The key set that verified it: any other set (a refresh) means verify again.
    pub(crate) key_set: u64,
    /// Seconds since the epoch before which the time claims still hold (`exp`, max age,
    /// leeway included).
    pub(crate) valid_until: u64,
}

/// Weighs entries in units of about 1 KiB: the token and its parsed claims.
#[derive(Clone, Copy)]
struct ByKilobyte;

impl Weighter<Box<str>, CachedToken> for ByKilobyte {
    fn weight(&self, key: &Box<str>, _value: &CachedToken) -> u64 {
        // Decoded claims take about as much room as the token; plus fixed overhead.
        let bytes = 2 * key.len() as u64 + 256;
        bytes.div_ceil(1024)
    }
}

/// Exact token bytes → verification. The map hashes the whole token and compares it in
/// full on every hit, so two different tokens never share an entry, however they hash.
pub(crate) struct TokenCache<B = DefaultHashBuilder> {
    entries: Cache<Box<str>, CachedToken, ByKilobyte, B>,
}

impl TokenCache {
    /// At most `capacity` entries of tokens up to ~380 bytes; larger tokens count more, so
    /// memory stays near `capacity` KiB.
    pub(crate) fn new(capacity: usize) -> Self {
        Self::with_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<B: BuildHasher + Clone> TokenCache<B> {
    pub(crate) fn with_hasher(capacity: usize, hasher: B) -> Self {
        let capacity = capacity.max(1);
        Self {
            entries: Cache::with(
                capacity,
                capacity as u64,
                ByKilobyte,
                hasher,
                Default::default(),
            ),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<CachedToken> {
        self.entries.get(token)
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken) {
        self.entries.insert(token.into(), entry);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(token);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hasher};

    use super::*;
    use crate::algorithm::Algorithm;
    use crate::scope_set::ScopeSet;

    /// Every key hashes the same: every lookup is a collision.
    #[derive(Clone, Default)]
    struct Colliding;
    struct Constant;
    impl Hasher for Constant {
        fn finish(&self) -> u64 {
            42
        }
        fn write(&mut self, _bytes: &[u8]) {}
    }
    impl BuildHasher for Colliding {
        type Hasher = Constant;
        fn build_hasher(&self) -> Constant {
            Constant
        }
    }

    fn entry(sub: &str) -> CachedToken {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), sub.into());
        CachedToken {
            token: VerifiedToken::new(claims, ScopeSet::default(), u64::MAX, Algorithm::RS256),
            issuer: 0,
            kid: None,
            key_set: 1,
            valid_until: u64::MAX,
        }
    }

    #[test]
    fn a_colliding_token_never_finds_another_tokens_entry() {
        let cache = TokenCache::with_hasher(100, Colliding);
        cache.insert("header.payload.signature", entry("alice"));
        assert!(cache.get("header.payload.signaturf").is_none());
        assert!(cache.get("header.payload.signatur").is_none());
        assert!(cache.get("other").is_none());
        let hit = cache
            .get("header.payload.signature")
            .map(|e| e.token.subject().map(str::to_owned));
        assert_eq!(hit, Some(Some("alice".to_owned())));
    }

    #[test]
    fn the_size_bound_holds() {
        let cache = TokenCache::new(50);
        for i in 0..1000 {
            cache.insert(&format!("token-{i:04}-{}", "x".repeat(100)), entry("u"));
        }
        assert!(cache.len() <= 50, "{} entries", cache.len());
        // Large tokens weigh more: fewer of them fit.
        let cache = TokenCache::new(50);
        for i in 0..1000 {
            cache.insert(&format!("token-{i:04}-{}", "x".repeat(4000)), entry("u"));
        }
        assert!(cache.len() <= 50 / 9 + 1, "{} entries", cache.len());
    }
}
