//! The remote key cache: TTL, background refresh, single flight, unknown-kid cooldown,
//! stale-if-error, and a lock-free hot path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use serde_json::Value;
use url::Url;

use super::discovery::discover_jwks_uri;
use super::status::KeyCacheStatus;
use super::transport::{FetchError, Transport};
use crate::error::AuthError;
use crate::keys::{KeyError, KeySet, jwks_entries};

/// The first delay before retrying a failed fetch; doubled per failure.
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between retries of a failing fetch.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// No unknown-kid refetch has happened yet.
const NEVER: u64 = u64::MAX;

/// A monotonic clock, injectable for tests of TTLs, cooldowns and staleness.
#[derive(Clone, Default)]
pub(crate) struct MonotonicClock(Option<Arc<dyn Fn() -> Duration + Send + Sync>>);

impl MonotonicClock {
    pub(crate) fn new(now: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(now)))
    }

    fn now(&self) -> Duration {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        match &self.0 {
            Some(now) => now(),
            None => START.get_or_init(Instant::now).elapsed(),
        }
    }
}

/// Timing and size limits of a cache.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) ttl: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) max_staleness: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_keys: usize,
}

/// Where the JWKS is.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// Found through the issuer's metadata.
    Discovery { issuer: String, url: Url },
    /// A fixed JWKS URL.
    Jwks(Url),
}

/// What requests read: replaced whole after every fetch attempt.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    keys: Option<Arc<KeySet>>,
    /// Bumped by every fetch attempt; lets waiters see that a fetch happened meanwhile.
    generation: u64,
    last_success: Option<Duration>,
    next_refresh: Duration,
    consecutive_failures: u32,
    last_error: Option<String>,
    last_refresh_at: Option<SystemTime>,
    last_attempt_at: Option<SystemTime>,
}

/// State only the fetch in flight touches.
#[derive(Debug)]
struct FetchState {
    jwks_uri: Option<(Url, Duration)>,
    backoff: Duration,
    /// The `keys` entries the cached key set was built from: a refetch with the same
    /// entries keeps that set, and with it the verified-token cache.
    entries: Option<Vec<Value>>,
}

/// Keys fetched from an issuer, cached and refreshed.
pub(crate) struct KeyCache {
    location: Location,
    limits: Limits,
    transport: Transport,
    clock: MonotonicClock,
    snapshot: ArcSwap<Snapshot>,
    fetch: tokio::sync::Mutex<FetchState>,
    fetching: AtomicBool,
    background: AtomicBool,
    unknown_kid_refetch_at: AtomicU64,
    fetches: AtomicU64,
}

impl KeyCache {
    pub(crate) fn new(
        location: Location,
        limits: Limits,
        transport: Transport,
        clock: MonotonicClock,
    ) -> Self {
        Self {
            location,
            limits,
            transport,
            clock,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            fetch: tokio::sync::Mutex::new(FetchState {
                jwks_uri: None,
                backoff: INITIAL_BACKOFF,
                entries: None,
            }),
            fetching: AtomicBool::new(false),
            background: AtomicBool::new(false),
            unknown_kid_refetch_at: AtomicU64::new(NEVER),
            fetches: AtomicU64::new(0),
        }
    }

    /// The keys to look `kid` up in. With keys cached this is one atomic load; a refresh
    /// that is due runs in the background. An unknown `kid` refetches at most once per
    /// cooldown; nothing cached fetches now (one fetch however many callers wait).
    pub(crate) async fn keys_for(
        self: &Arc<Self>,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, AuthError> {
        match self.keys_now(kid) {
            Some(ready) => ready,
            None => self.keys_after_fetch(kid).await,
        }
    }

    /// The keys when no fetch has to be awaited; `None` means a fetch must run (or the
    /// one in flight be waited for) first. Never blocks; a due refresh is spawned.
    pub(crate) fn keys_now(
        self: &Arc<Self>,
        kid: Option<&str>,
    ) -> Option<Result<Arc<KeySet>, AuthError>> {
        let now = self.clock.now();
        let snapshot = self.snapshot.load_full();
        let fetching = self.fetching.load(Ordering::Acquire);
        match self.usable(&snapshot, now) {
            Some(keys) => {
                if now >= snapshot.next_refresh {
                    self.refresh_in_background(snapshot.generation);
                }
                let known = kid.is_none_or(|kid| keys.contains_kid(kid));
                // An unknown kid is answered from the cache (and rejected) while the
                // cooldown runs and nothing is in flight.
                let settled = known || (!fetching && !self.unknown_kid_refetch_allowed(now));
                settled.then_some(Ok(keys))
            }
            // Nothing usable: wait out the backoff after a failure, unless a fetch runs.
            None if snapshot.generation > 0 && now < snapshot.next_refresh && !fetching => {
                Some(Err(unavailable(&snapshot, now)))
            }
            None => None,
        }
    }

    /// The slow path: fetch (once per cooldown for unknown kids), or join the fetch in flight.
    async fn keys_after_fetch(
        self: &Arc<Self>,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, AuthError> {
        let now = self.clock.now();
        let snapshot = self.snapshot.load_full();
        if let Some(keys) = self.usable(&snapshot, now) {
            let Some(kid) = kid else { return Ok(keys) };
            if keys.contains_kid(kid) {
                return Ok(keys);
            }
            let claimed = self.claim_unknown_kid_refetch(now);
            if !claimed && !self.fetching.load(Ordering::Acquire) {
                return Ok(keys);
            }
            let fresh = self.refresh(snapshot.generation, claimed).await;
            return Ok(self.usable(&fresh, self.clock.now()).unwrap_or(keys));
        }
        let fresh = self.refresh(snapshot.generation, true).await;
        let now = self.clock.now();
        self.usable(&fresh, now)
            .ok_or_else(|| unavailable(&fresh, now))
    }

    /// Fetches now unless a fetch already happened since `seen_generation`.
    pub(crate) async fn refresh_now(&self) -> Result<(), AuthError> {
        let seen = self.snapshot.load().generation;
        let fresh = self.refresh(seen, true).await;
        let now = self.clock.now();
        self.usable(&fresh, now)
            .map(drop)
            .ok_or_else(|| unavailable(&fresh, now))
    }

    pub(crate) fn status(&self) -> KeyCacheStatus {
        let snapshot = self.snapshot.load();
        let keys = snapshot.keys.as_deref();
        KeyCacheStatus {
            source: match &self.location {
                Location::Discovery { issuer, .. } => issuer.clone(),
                Location::Jwks(url) => url.to_string(),
            },
            key_ids: keys
                .map(|keys| {
                    keys.iter()
                        .filter_map(|key| key.kid().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            key_count: keys.map_or(0, KeySet::len),
            last_refresh: snapshot.last_refresh_at,
            last_attempt: snapshot.last_attempt_at,
            consecutive_failures: snapshot.consecutive_failures,
            last_error: snapshot.last_error.clone(),
            fetches: self.fetches.load(Ordering::Relaxed),
        }
    }

    fn usable(&self, snapshot: &Snapshot, now: Duration) -> Option<Arc<KeySet>> {
        let fresh_enough = snapshot
            .last_success
            .is_some_and(|at| now.saturating_sub(at) < self.limits.max_staleness);
        fresh_enough.then(|| snapshot.keys.clone()).flatten()
    }

    /// Whether the unknown-kid cooldown has passed (without claiming it).
    fn unknown_kid_refetch_allowed(&self, now: Duration) -> bool {
        let last = self.unknown_kid_refetch_at.load(Ordering::Acquire);
        let cooldown_ms = u64::try_from(self.limits.cooldown.as_millis()).unwrap_or(u64::MAX);
        last == NEVER || millis(now).saturating_sub(last) >= cooldown_ms
    }

    /// Claims the unknown-kid refetch of this cooldown period; one caller wins.
    fn claim_unknown_kid_refetch(&self, now: Duration) -> bool {
        let last = self.unknown_kid_refetch_at.load(Ordering::Acquire);
        self.unknown_kid_refetch_allowed(now)
            && self
                .unknown_kid_refetch_at
                .compare_exchange(last, millis(now), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    fn refresh_in_background(self: &Arc<Self>, seen_generation: u64) {
        if self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.background.store(false, Ordering::Release);
            return;
        };
        let cache = Arc::clone(self);
        runtime.spawn(async move {
            cache.refresh(seen_generation, true).await;
            cache.background.store(false, Ordering::Release);
        });
    }

    /// One fetch at a time: a caller that waited while another fetched gets that result.
    async fn refresh(&self, seen_generation: u64, may_fetch: bool) -> Arc<Snapshot> {
        let mut state = self.fetch.lock().await;
        let current = self.snapshot.load_full();
        if current.generation != seen_generation || !may_fetch {
            return current;
        }
        let _in_flight = InFlight::start(&self.fetching);
        let started = self.clock.now();
        let wall_start = SystemTime::now();
        let source = self.source_label();
        tracing::debug!(target: "scopegate::keys", source = %source, "fetching keys");
        let outcome = tokio::time::timeout(
            self.limits.timeout,
            self.fetch_keys(&mut state, started, current.keys.as_ref()),
        )
        .await
        .unwrap_or(Err(FetchError::Timeout));
        let now = self.clock.now();
        let duration_ms =
            u64::try_from(now.saturating_sub(started).as_millis()).unwrap_or(u64::MAX);
        let next = match outcome {
            Ok(Fetched {
                keys,
                unchanged,
                max_age,
                status,
            }) => {
                state.backoff = INITIAL_BACKOFF;
                let ttl = max_age.map_or(self.limits.ttl, |age| {
                    age.clamp(self.limits.min_ttl, self.limits.max_ttl)
                });
                tracing::info!(target: "scopegate::keys", source = %source, duration_ms, key_count = keys.len(), unchanged, status, "keys fetched");
                if keys.is_empty() {
                    tracing::warn!(target: "scopegate::keys", source = %source, "the issuer publishes no usable key: every token is refused until it does");
                }
                Snapshot {
                    keys: Some(keys),
                    generation: current.generation + 1,
                    last_success: Some(now),
                    // Refresh ahead of expiry: at nine tenths of the TTL.
                    next_refresh: now + ttl.mul_f64(0.9),
                    consecutive_failures: 0,
                    last_error: None,
                    last_refresh_at: Some(SystemTime::now()),
                    last_attempt_at: Some(wall_start),
                }
            }
            Err(error) => {
                let backoff = state.backoff;
                state.backoff = (backoff * 2).min(MAX_BACKOFF);
                state.jwks_uri = None;
                tracing::warn!(
                    target: "scopegate::keys",
                    source = %source,
                    duration_ms,
                    status = error.status(),
                    %error,
                    retry_in_secs = backoff.as_secs(),
                    serving_cached = current.keys.is_some(),
                    "key fetch failed"
                );
                Snapshot {
                    keys: current.keys.clone(),
                    generation: current.generation + 1,
                    last_success: current.last_success,
                    next_refresh: now + backoff,
                    consecutive_failures: current.consecutive_failures.saturating_add(1),
                    last_error: Some(error.to_string()),
                    last_refresh_at: current.last_refresh_at,
                    last_attempt_at: Some(wall_start),
                }
            }
        };
        let next = Arc::new(next);
        self.snapshot.store(Arc::clone(&next));
        next
    }

    /// Fetches the JWKS. A document whose `keys` entries are those of the cached set
    /// keeps that set (`current`); an empty or wholly unusable one is the issuer's word
    /// that no key is valid, not a failure.
    async fn fetch_keys(
        &self,
        state: &mut FetchState,
        now: Duration,
        current: Option<&Arc<KeySet>>,
    ) -> Result<Fetched, FetchError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let jwks_uri = match &self.location {
            Location::Jwks(url) => url.clone(),
            Location::Discovery { issuer, url } => match &state.jwks_uri {
                Some((uri, found_at)) if now.saturating_sub(*found_at) < self.limits.ttl => {
                    uri.clone()
                }
                _ => {
                    let uri = discover_jwks_uri(&self.transport, issuer, url).await?;
                    state.jwks_uri = Some((uri.clone(), now));
                    uri
                }
            },
        };
        let fetched = self.transport.get(&jwks_uri).await?;
        let entries = jwks_entries(&fetched.body, self.limits.max_keys).map_err(|error| {
            FetchError::InvalidDocument(match error {
                KeyError::TooManyKeys(_) => "the JWKS holds too many keys",
                _ => "the response is not a JWKS",
            })
        })?;
        let (keys, unchanged) = match current {
            Some(current) if state.entries.as_ref() == Some(&entries) => {
                (Arc::clone(current), true)
            }
            _ => (Arc::new(KeySet::from_jwks_entries(&entries)), false),
        };
        state.entries = Some(entries);
        Ok(Fetched {
            keys,
            unchanged,
            max_age: fetched.max_age,
            status: fetched.status,
        })
    }

    fn source_label(&self) -> &str {
        match &self.location {
            Location::Discovery { issuer, .. } => issuer,
            Location::Jwks(url) => url.as_str(),
        }
    }
}

/// A successful fetch.
struct Fetched {
    keys: Arc<KeySet>,
    /// Whether `keys` is the cached set, kept because the document's keys are the same.
    unchanged: bool,
    max_age: Option<Duration>,
    status: u16,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("location", &self.location)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn millis(at: Duration) -> u64 {
    u64::try_from(at.as_millis()).unwrap_or(NEVER - 1)
}

fn unavailable(snapshot: &Snapshot, now: Duration) -> AuthError {
    let wait = snapshot.next_refresh.saturating_sub(now);
    AuthError::keys_unavailable(wait.as_secs().max(1))
}

/// Marks a fetch in flight; cleared even if the fetching future is dropped.
struct InFlight<'a>(&'a AtomicBool);

impl<'a> InFlight<'a> {
    fn start(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::Release);
        Self(flag)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
