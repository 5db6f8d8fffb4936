//! Where a verifier gets its keys.

use std::sync::Arc;

use crate::error::AuthError;
use crate::keys::{KeySet, VerificationKey};
use crate::remote::{KeyCache, KeyCacheStatus};

/// Where a [`Verifier`](crate::Verifier) gets its verification keys.
///
/// A static source holds keys given in configuration (a JWKS document, PEM public keys,
/// an HMAC secret); a remote source ([`RemoteKeys`](crate::RemoteKeys)) fetches and caches
/// the issuer's JWKS. Lookups hand out a shared snapshot of the set either way.
///
/// ```
/// use scopegate_core::{KeySource, VerificationKey};
///
/// let source = KeySource::from(VerificationKey::hmac_secret([42u8; 32])?);
/// # let _ = source;
/// # Ok::<(), scopegate_core::KeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeySource {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Static(Arc<KeySet>),
    Remote(Arc<KeyCache>),
}

impl KeySource {
    /// Keys fixed at configuration time.
    pub fn from_keys(keys: KeySet) -> Self {
        Self {
            inner: Inner::Static(Arc::new(keys)),
        }
    }

    pub(crate) fn remote(cache: Arc<KeyCache>) -> Self {
        Self {
            inner: Inner::Remote(cache),
        }
    }

    /// The keys to look `kid` up in.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>, AuthError> {
        match &self.inner {
            Inner::Static(keys) => Ok(Arc::clone(keys)),
            Inner::Remote(cache) => cache.keys_for(kid).await,
        }
    }

    /// The keys for `kid` if no fetch has to be awaited; `None` otherwise.
    pub(crate) fn keys_now(&self, kid: Option<&str>) -> Option<Result<Arc<KeySet>, AuthError>> {
        match &self.inner {
            Inner::Static(keys) => Some(Ok(Arc::clone(keys))),
            Inner::Remote(cache) => cache.keys_now(kid),
        }
    }

    /// Fetches remote keys now (a no-op for static keys).
    pub(crate) async fn refresh(&self) -> Result<(), AuthError> {
        match &self.inner {
            Inner::Static(_) => Ok(()),
            Inner::Remote(cache) => cache.refresh_now().await,
        }
    }

    /// The state of a remote cache; `None` for static keys.
    pub(crate) fn status(&self) -> Option<KeyCacheStatus> {
        match &self.inner {
            Inner::Static(_) => None,
            Inner::Remote(cache) => Some(cache.status()),
        }
    }

    /// The configured keys, when they are fixed.
    pub(crate) fn static_keys(&self) -> Option<&KeySet> {
        match &self.inner {
            Inner::Static(keys) => Some(keys),
            Inner::Remote(_) => None,
        }
    }
}

impl From<KeySet> for KeySource {
    fn from(keys: KeySet) -> Self {
        Self::from_keys(keys)
    }
}

impl From<VerificationKey> for KeySource {
    fn from(key: VerificationKey) -> Self {
        Self::from_keys(KeySet::from(key))
    }
}
