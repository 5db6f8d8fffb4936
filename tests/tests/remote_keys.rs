//! Keys from the issuer: discovery, transport limits and the cache, against a real HTTP
//! server on 127.0.0.1. Cache timing uses an injected clock; only transport timeouts
//! use real (short) time.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{ConfigError, ErrorKind, RemoteKeys, Verifier, VerifierConfig};
use scopegate_tests::{DISCOVERED_JWKS_PATH, FALLBACK_JWKS_PATH, Idp, ManualClock, Metadata, Mode};
use serde_json::json;

/// An issuer whose `iss` is the IdP's URL, and the IdP serving its JWKS.
async fn setup(metadata: Metadata) -> (TestIssuer, Idp) {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), metadata).await;
    let issuer = placeholder.with_issuer(idp.issuer());
    (issuer, idp)
}

fn verifier_with(issuer: &TestIssuer, keys: RemoteKeys) -> Verifier {
    VerifierConfig::new(issuer.issuer(), issuer.audience())
        .keys(keys.build().expect("key source"))
        .build()
        .expect("verifier")
}

async fn kind(verifier: &Verifier, token: &str) -> Result<(), ErrorKind> {
    verifier.verify(token).await.map(drop).map_err(|e| e.kind())
}

#[tokio::test]
async fn oidc_discovery_finds_the_jwks() {
    let (issuer, idp) = setup(Metadata::Oidc).await;
    let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .build()
        .expect("discovery is the default");
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    assert_eq!(
        (
            idp.hits("/.well-known/openid-configuration"),
            idp.hits(DISCOVERED_JWKS_PATH)
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn rfc8414_metadata_is_the_second_choice() {
    let (issuer, idp) = setup(Metadata::Rfc8414).await;
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(idp.hits("/.well-known/oauth-authorization-server"), 1);
    assert_eq!(idp.hits(DISCOVERED_JWKS_PATH), 1);
}

#[tokio::test]
async fn without_metadata_the_auth0_location_is_used() {
    let (issuer, idp) = setup(Metadata::None).await;
    // The Auth0 preset with an issuer URL (loopback HTTP is allowed for local issuers).
    let verifier = Verifier::auth0(issuer.issuer(), issuer.audience())
        .build()
        .expect("verifier");
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    assert_eq!(idp.hits(FALLBACK_JWKS_PATH), 1);
}

#[tokio::test]
async fn metadata_naming_another_issuer_or_an_insecure_jwks_uri_is_refused() {
    for metadata in [Metadata::WrongIssuer, Metadata::InsecureJwksUri] {
        let (issuer, idp) = setup(metadata).await;
        let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
        assert_eq!(
            kind(&verifier, &issuer.token().sign()).await,
            Err(ErrorKind::KeysUnavailable),
            "{metadata:?}"
        );
        assert_eq!(idp.jwks_hits(), 0, "{metadata:?}");
        assert!(
            verifier
                .key_status()
                .and_then(|s| s.last_error)
                .is_some_and(|e| e.contains("metadata"))
        );
    }
}

#[tokio::test]
async fn an_explicit_jwks_url_skips_discovery() {
    let (issuer, idp) = setup(Metadata::Oidc).await;
    let verifier = verifier_with(&issuer, RemoteKeys::jwks_url(idp.url(FALLBACK_JWKS_PATH)));
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 0);
    assert_eq!(idp.hits(FALLBACK_JWKS_PATH), 1);
}

#[test]
fn plain_http_is_a_configuration_error_except_on_loopback() {
    assert_eq!(
        RemoteKeys::discovery("http://tenant.example/")
            .build()
            .err()
            .map(|e| e.to_string()),
        Some(ConfigError::InsecureUrl.to_string())
    );
    assert!(matches!(
        RemoteKeys::jwks_url("http://10.1.2.3/jwks.json").build(),
        Err(ConfigError::InsecureUrl)
    ));
    assert!(matches!(
        VerifierConfig::new("http://tenant.example/", "api").build(),
        Err(ConfigError::InsecureUrl)
    ));
    assert!(matches!(
        RemoteKeys::jwks_url("not a url").build(),
        Err(ConfigError::InvalidUrl)
    ));
    assert!(
        RemoteKeys::jwks_url("http://127.0.0.1:9/jwks.json")
            .build()
            .is_ok()
    );
    assert!(
        RemoteKeys::jwks_url("https://tenant.example/jwks.json")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (issuer, idp) = setup(Metadata::None).await;
    let elsewhere = Idp::start(issuer.jwks(), Metadata::None).await;
    idp.set_mode(Mode::Redirect(elsewhere.url(FALLBACK_JWKS_PATH)));
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    assert_eq!(
        kind(&verifier, &issuer.token().sign()).await,
        Err(ErrorKind::KeysUnavailable)
    );
    assert_eq!(elsewhere.jwks_hits(), 0);
    assert_eq!(
        verifier.key_status().and_then(|s| s.last_error).as_deref(),
        Some("HTTP status 302")
    );
}

#[tokio::test]
async fn a_slow_issuer_fails_within_the_timeout() {
    let (issuer, idp) = setup(Metadata::None).await;
    idp.set_mode(Mode::Slow(Duration::from_secs(10)));
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).timeout(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let err = verifier
        .verify(&issuer.token().sign())
        .await
        .expect_err("times out");
    assert_eq!(err.kind(), ErrorKind::KeysUnavailable);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "returned after {:?}",
        started.elapsed()
    );
    assert_eq!(
        verifier.key_status().and_then(|s| s.last_error).as_deref(),
        Some("timed out")
    );
}

#[tokio::test]
async fn huge_bodies_and_too_many_keys_are_refused() {
    let (issuer, idp) = setup(Metadata::None).await;
    idp.set_mode(Mode::Huge(2 * 1024 * 1024));
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    assert_eq!(
        kind(&verifier, &issuer.token().sign()).await,
        Err(ErrorKind::KeysUnavailable)
    );
    assert_eq!(
        verifier.key_status().and_then(|s| s.last_error).as_deref(),
        Some("response too large")
    );

    idp.set_mode(Mode::Serve);
    let small_cap = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).max_response_size(64),
    );
    assert_eq!(
        kind(&small_cap, &issuer.token().sign()).await,
        Err(ErrorKind::KeysUnavailable)
    );

    let jwk = issuer.public_jwk().expect("jwk").clone();
    idp.set_jwks(json!({"keys": [jwk.clone(), jwk.clone(), jwk.clone(), jwk]}));
    let few_keys = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()).max_keys(3));
    assert_eq!(
        kind(&few_keys, &issuer.token().sign()).await,
        Err(ErrorKind::KeysUnavailable)
    );
    assert_eq!(
        few_keys.key_status().and_then(|s| s.last_error).as_deref(),
        Some("the JWKS holds too many keys")
    );
}

#[tokio::test]
async fn bad_keys_are_skipped_without_poisoning_good_ones() {
    let (issuer, idp) = setup(Metadata::None).await;
    let good = issuer.public_jwk().expect("jwk").clone();
    idp.set_jwks(json!({"keys": [
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        {"kty": "oct", "kid": "secret", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
        {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
        "not an object",
        good,
    ]}));
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    let status = verifier.key_status().expect("remote");
    assert_eq!(
        (status.key_count, status.key_ids),
        (1, vec![issuer.kid().to_owned()])
    );
}

#[tokio::test]
async fn garbage_or_failed_responses_are_failures() {
    for mode in [
        Mode::Garbage,
        Mode::Raw(r#"{"keys": {}}"#.into()),
        Mode::Raw(r#"{"no_keys": []}"#.into()),
        Mode::Status(500),
    ] {
        let (issuer, idp) = setup(Metadata::None).await;
        idp.set_mode(mode.clone());
        let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
        let err = verifier
            .verify(&issuer.token().sign())
            .await
            .expect_err("no keys");
        assert_eq!(
            (err.kind(), err.status().as_u16()),
            (ErrorKind::KeysUnavailable, 503),
            "{mode:?}"
        );
        assert!(err.retry_after_secs().is_some_and(|s| s >= 1), "{mode:?}");
        assert_eq!(err.challenge("api"), None);
    }
}

/// A JWKS with no usable key is the issuer saying no key is valid: tokens are refused
/// as `invalid_token` (401), not answered 503 as if the issuer could not be reached.
#[tokio::test]
async fn an_empty_or_wholly_unusable_set_means_no_valid_key() {
    for jwks in [
        r#"{"keys": []}"#,
        r#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#,
    ] {
        let (issuer, idp) = setup(Metadata::None).await;
        idp.set_mode(Mode::Raw(jwks.into()));
        let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
        let err = verifier
            .verify(&issuer.token().sign())
            .await
            .expect_err("no keys");
        assert_eq!(
            (err.kind(), err.status().as_u16(), err.error_code()),
            (ErrorKind::UnknownKey, 401, Some("invalid_token")),
            "{jwks}"
        );
        let status = verifier.key_status().expect("remote");
        assert_eq!((status.key_count, status.last_error), (0, None), "{jwks}");
    }
}

#[tokio::test]
async fn keys_removed_by_the_issuer_after_warm_up_stop_verifying() {
    let clock = ManualClock::default();
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).clock(clock.reader()),
    );
    let token = issuer.token().sign();
    assert_eq!(kind(&verifier, &token).await, Ok(()));

    idp.set_mode(Mode::Raw(r#"{"keys": []}"#.into()));
    verifier
        .refresh_keys()
        .await
        .expect("an empty set is a successful fetch");
    assert_eq!(kind(&verifier, &token).await, Err(ErrorKind::UnknownKey));
    // Still refused later: nothing of the old set is kept as stale-if-error.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(kind(&verifier, &token).await, Err(ErrorKind::UnknownKey));
    let status = verifier.key_status().expect("remote");
    assert_eq!((status.key_count, status.consecutive_failures), (0, 0));

    // The issuer publishes the key again: accepted after the next refresh.
    idp.set_mode(Mode::Serve);
    verifier.refresh_keys().await.expect("refresh");
    assert_eq!(kind(&verifier, &token).await, Ok(()));
}

#[tokio::test]
async fn issuer_down_from_the_start_answers_503_quickly_and_backs_off() {
    let clock = ManualClock::default();
    let (issuer, idp) = setup(Metadata::None).await;
    idp.set_mode(Mode::Status(503));
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).clock(clock.reader()),
    );
    let token = issuer.token().sign();
    assert_eq!(
        kind(&verifier, &token).await,
        Err(ErrorKind::KeysUnavailable)
    );
    assert_eq!(idp.jwks_hits(), 1);
    // Within the backoff, requests are answered at once without another fetch.
    let err = verifier.verify(&token).await.expect_err("still down");
    assert_eq!(
        (err.kind(), err.retry_after_secs()),
        (ErrorKind::KeysUnavailable, Some(1))
    );
    assert_eq!(idp.jwks_hits(), 1);
    // After the backoff, one more attempt; it fails, and the backoff doubles.
    clock.advance(Duration::from_millis(1100));
    assert_eq!(
        kind(&verifier, &token).await,
        Err(ErrorKind::KeysUnavailable)
    );
    assert_eq!(idp.jwks_hits(), 2);
    assert_eq!(
        verifier
            .verify(&token)
            .await
            .expect_err("down")
            .retry_after_secs(),
        Some(2)
    );
    // The issuer comes back: the next attempt succeeds.
    idp.set_mode(Mode::Serve);
    clock.advance(Duration::from_secs(3));
    assert_eq!(kind(&verifier, &token).await, Ok(()));
    let status = verifier.key_status().expect("remote");
    assert_eq!((status.consecutive_failures, status.last_error), (0, None));
}

#[tokio::test]
async fn keys_unavailable_can_answer_401_invalid_token() {
    let (issuer, idp) = setup(Metadata::None).await;
    idp.set_mode(Mode::Status(500));
    let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .keys_unavailable_as_invalid_token(true)
        .build()
        .expect("verifier");
    let err = verifier
        .verify(&issuer.token().sign())
        .await
        .expect_err("down");
    assert_eq!(err.kind(), ErrorKind::KeysUnavailable);
    assert_eq!(
        (
            err.status().as_u16(),
            err.error_code(),
            err.retry_after_secs()
        ),
        (401, Some("invalid_token"), None)
    );
    assert!(
        err.challenge("api")
            .is_some_and(|c| c.contains(r#"error="invalid_token""#))
    );
}

#[tokio::test]
async fn issuer_down_after_warm_up_keeps_valid_tokens_verifying() {
    let clock = ManualClock::default();
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer())
            .clock(clock.reader())
            .max_staleness(Duration::from_secs(24 * 3600)),
    );
    verifier.refresh_keys().await.expect("warm-up");
    idp.set_mode(Mode::Status(500));
    // Far past the TTL: every background refresh fails, the cached keys keep serving.
    for hour in 1..=23 {
        clock.advance(Duration::from_secs(3600));
        assert_eq!(
            kind(&verifier, &issuer.token().sign()).await,
            Ok(()),
            "hour {hour}"
        );
        wait_for(|| {
            verifier
                .key_status()
                .is_some_and(|s| s.consecutive_failures >= hour)
        })
        .await;
    }
    // Beyond the maximum staleness the old keys are no longer trusted.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        kind(&verifier, &issuer.token().sign()).await,
        Err(ErrorKind::KeysUnavailable)
    );
}

#[tokio::test]
async fn an_issuer_refusing_connections_is_survived_and_rejoined() {
    let clock = ManualClock::default();
    let (old, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(
        &old,
        RemoteKeys::discovery(old.issuer()).clock(clock.reader()),
    );
    verifier.refresh_keys().await.expect("warm-up");
    idp.stop().await;
    assert_eq!(kind(&verifier, &old.token().sign()).await, Ok(()));
    let new = TestIssuer::new()
        .with_issuer(old.issuer())
        .with_kid("rotated-key");
    assert_eq!(
        kind(&verifier, &new.token().sign()).await,
        Err(ErrorKind::UnknownKey),
        "the refetch for the unknown kid cannot connect"
    );
    assert_eq!(idp.jwks_hits(), 1, "nothing reached the stopped issuer");

    idp.set_jwks(json!({"keys": [old.public_jwk(), new.public_jwk()]}));
    idp.resume().await;
    // The failed attempt set a 1 s backoff; the first request after it starts the retry
    // in the background (its own answer comes from the cached keys at once).
    clock.advance(Duration::from_secs(2));
    assert_eq!(kind(&verifier, &old.token().sign()).await, Ok(()));
    wait_for(|| {
        verifier
            .key_status()
            .is_some_and(|s| s.key_ids.iter().any(|kid| kid == "rotated-key"))
    })
    .await;
    assert_eq!(kind(&verifier, &new.token().sign()).await, Ok(()));
    assert_eq!(idp.jwks_hits(), 2);
}

#[tokio::test]
async fn keys_refresh_in_the_background_after_the_ttl_and_honour_max_age() {
    let clock = ManualClock::default();
    let (issuer, idp) = setup(Metadata::None).await;
    idp.set_cache_control("public, max-age=120");
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).clock(clock.reader()),
    );
    let token = issuer.token().sign();
    assert_eq!(kind(&verifier, &token).await, Ok(()));
    assert_eq!(idp.jwks_hits(), 1);
    // max-age 120 s: fresh until nine tenths of it.
    clock.advance(Duration::from_secs(100));
    assert_eq!(kind(&verifier, &token).await, Ok(()));
    assert_eq!(idp.jwks_hits(), 1);
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        kind(&verifier, &token).await,
        Ok(()),
        "served from cache while refreshing"
    );
    wait_for(|| idp.jwks_hits() == 2).await;

    // A max-age below the bound is clamped up to 60 s.
    idp.set_cache_control("max-age=1");
    clock.advance(Duration::from_secs(200));
    assert_eq!(kind(&verifier, &token).await, Ok(()));
    wait_for(|| idp.jwks_hits() == 3).await;
    clock.advance(Duration::from_secs(30));
    assert_eq!(kind(&verifier, &token).await, Ok(()));
    assert_eq!(idp.jwks_hits(), 3, "1 s max-age is clamped to 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_cause_exactly_one_fetch() {
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    verifier.refresh_keys().await.expect("warm-up");
    assert_eq!(idp.jwks_hits(), 1);
    let stranger = TestIssuer::new()
        .with_issuer(issuer.issuer())
        .with_kid("unknown-kid");
    let token = stranger.token().sign();
    let results = verify_concurrently(&verifier, &token, 200).await;
    assert!(results.iter().all(|r| *r == Err(ErrorKind::UnknownKey)));
    assert_eq!(
        idp.jwks_hits(),
        2,
        "one refetch for 200 concurrent unknown kids"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_start_causes_exactly_one_fetch() {
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    let token = issuer.token().sign();
    let results = verify_concurrently(&verifier, &token, 200).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(idp.jwks_hits(), 1);
}

#[tokio::test]
async fn random_kid_flood_refetches_at_most_once_per_cooldown() {
    let clock = ManualClock::default();
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(
        &issuer,
        RemoteKeys::discovery(issuer.issuer()).clock(clock.reader()),
    );
    verifier.refresh_keys().await.expect("warm-up");
    // 95 s of one random-kid request per second, then a valid token.
    for second in 0..95 {
        let token = issuer
            .token()
            .header("kid", format!("random-{second}"))
            .sign();
        assert_eq!(kind(&verifier, &token).await, Err(ErrorKind::UnknownKey));
        clock.advance(Duration::from_secs(1));
    }
    // Refetches at 0 s, 30 s, 60 s and 90 s only.
    assert_eq!(idp.jwks_hits(), 1 + 4);
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
}

#[tokio::test]
async fn a_rotated_key_is_accepted_on_first_sight_and_a_removed_key_stops_verifying() {
    let clock = ManualClock::default();
    let (old, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(
        &old,
        RemoteKeys::discovery(old.issuer()).clock(clock.reader()),
    );
    assert_eq!(kind(&verifier, &old.token().sign()).await, Ok(()));

    // The issuer publishes a new key next to the old one and signs with it.
    let new = TestIssuer::new()
        .with_issuer(old.issuer())
        .with_kid("rotated-key");
    idp.set_jwks(json!({"keys": [old.public_jwk(), new.public_jwk()]}));
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        kind(&verifier, &new.token().sign()).await,
        Ok(()),
        "new kid triggers an immediate refetch"
    );
    assert_eq!(idp.jwks_hits(), 2);

    // The old key is withdrawn: after the next successful refresh it no longer verifies.
    idp.set_jwks(json!({"keys": [new.public_jwk()]}));
    assert_eq!(
        kind(&verifier, &old.token().sign()).await,
        Ok(()),
        "until the refresh"
    );
    clock.advance(RemoteKeys::DEFAULT_TTL);
    assert_eq!(kind(&verifier, &new.token().sign()).await, Ok(()));
    wait_for(|| idp.jwks_hits() == 3).await;
    wait_for(|| {
        verifier
            .key_status()
            .is_some_and(|s| s.key_ids == ["rotated-key"])
    })
    .await;
    assert_eq!(
        kind(&verifier, &old.token().sign()).await,
        Err(ErrorKind::UnknownKey)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_keys_serve_while_a_fetch_is_in_flight() {
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    verifier.refresh_keys().await.expect("warm-up");
    idp.set_mode(Mode::Slow(Duration::from_secs(2)));
    // An unknown kid starts a slow refetch that holds the fetch lock...
    let stranger = TestIssuer::new()
        .with_issuer(issuer.issuer())
        .with_kid("stranger");
    let slow = tokio::spawn({
        let verifier = verifier.clone();
        let token = stranger.token().sign();
        async move {
            verifier
                .verify(&token)
                .await
                .map(drop)
                .map_err(|e| e.kind())
        }
    });
    wait_for(|| idp.jwks_hits() == 2).await;
    // ...while a token with a cached kid verifies without waiting for it.
    assert_eq!(kind(&verifier, &issuer.token().sign()).await, Ok(()));
    assert!(!slow.is_finished(), "the refetch is still in flight");
    assert_eq!(slow.await.expect("task"), Err(ErrorKind::UnknownKey));
}

#[tokio::test]
async fn only_a_key_fetch_makes_a_decision_wait() {
    use scopegate_core::{AuthMode, Outcome};
    let (issuer, idp) = setup(Metadata::None).await;
    let verifier = verifier_with(&issuer, RemoteKeys::discovery(issuer.issuer()));
    let header = format!("Bearer {}", issuer.token().sign());
    let Outcome::Pending(pending) =
        verifier.authenticate_now([header.as_bytes()], None, AuthMode::Required)
    else {
        panic!("a cold cache must fetch first");
    };
    assert_eq!(
        idp.jwks_hits(),
        0,
        "nothing fetched before the pending verification is awaited"
    );
    assert!(pending.resolve().await.is_ok());
    assert_eq!(idp.jwks_hits(), 1);
    // Warm: decided synchronously.
    assert!(matches!(
        verifier.authenticate_now([header.as_bytes()], None, AuthMode::Required),
        Outcome::Authenticated(_)
    ));
    // A malformed token never waits for keys.
    let malformed: [&[u8]; 1] = [b"Bearer not.a.jwt"];
    assert!(matches!(
        verifier.authenticate_now(malformed, None, AuthMode::Required),
        Outcome::Rejected(_)
    ));
}

/// Verifies `token` `count` times concurrently.
async fn verify_concurrently(
    verifier: &Verifier,
    token: &str,
    count: usize,
) -> Vec<Result<(), ErrorKind>> {
    join_all((0..count).map(|_| kind(verifier, token))).await
}

/// Waits (bounded) for a background refresh to land.
async fn wait_for(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "condition not reached within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
