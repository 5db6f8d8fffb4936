//! Where a verifier gets its keys.

use std::sync::Arc;

use crate::error::AuthError;
use crate::keys::{KeySet, VerificationKey};

/// Where a [`Verifier`](crate::Verifier) gets its verification keys.
///
/// A static source holds keys given in configuration (a JWKS document, PEM public keys,
/// an HMAC secret). Lookups hand out a shared snapshot of the set, so a key source that
/// refreshes its keys can replace the snapshot without the verifier noticing.
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
}

impl KeySource {
    /// Keys fixed at configuration time.
    pub fn from_keys(keys: KeySet) -> Self {
        Self {
            inner: Inner::Static(Arc::new(keys)),
        }
    }

    /// The keys to look `kid` up in.
    pub(crate) async fn keys_for(&self, _kid: Option<&str>) -> Result<Arc<KeySet>, AuthError> {
        match &self.inner {
            Inner::Static(keys) => Ok(Arc::clone(keys)),
        }
    }

    /// The configured keys, when they are fixed.
    pub(crate) fn static_keys(&self) -> Option<&KeySet> {
        match &self.inner {
            Inner::Static(keys) => Some(keys),
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
