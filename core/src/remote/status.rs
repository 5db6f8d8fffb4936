//! What a remote key cache reports about itself, for health endpoints.

use std::time::SystemTime;

/// A snapshot of a remote key cache's state.
///
/// ```no_run
/// # async fn health(verifier: scopegate_core::Verifier) {
/// if let Some(status) = verifier.key_status() {
///     println!("{} keys {:?}, last refresh {:?}, failures {}", status.source, status.key_ids, status.last_refresh, status.consecutive_failures);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyCacheStatus {
    /// Where keys come from: the issuer (discovery) or the JWKS URL.
    pub source: String,
    /// The `kid`s of the cached keys (keys without a `kid` are not listed).
    pub key_ids: Vec<String>,
    /// How many keys are cached.
    pub key_count: usize,
    /// When the keys were last fetched successfully.
    pub last_refresh: Option<SystemTime>,
    /// When a fetch was last attempted.
    pub last_attempt: Option<SystemTime>,
    /// Fetch failures since the last success.
    pub consecutive_failures: u32,
    /// Why the last fetch failed, if it did.
    pub last_error: Option<String>,
    /// HTTP fetch attempts of the JWKS (or discovery) since start.
    pub fetches: u64,
}
