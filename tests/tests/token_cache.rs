//! The verified-token cache never accepts what a full verification would refuse: expiry
//! is honoured on a hit, a key rotated out purges its tokens, and scopes are checked on
//! every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{ClaimRule, ErrorKind, RemoteKeys, VerifierConfig};
use scopegate_tests::{Idp, ManualClock, Metadata, spawn_app};
use scopegate_tower::{AuthLayer, Claims, requires_scope};
use serde_json::json;

#[tokio::test]
async fn expiry_is_honoured_on_a_cache_hit() {
    let issuer = TestIssuer::new();
    let now = Arc::new(AtomicU64::new(1_800_000_000));
    let clock = Arc::clone(&now);
    let verifier = issuer
        .verifier_config()
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .expect("verifier");
    let token = issuer
        .token()
        .claim("iat", 1_800_000_000u64)
        .claim("exp", 1_800_000_060u64)
        .sign();
    assert!(verifier.verify(&token).await.is_ok(), "verified and cached");
    now.store(1_800_000_064, Ordering::SeqCst);
    assert!(
        verifier.verify(&token).await.is_ok(),
        "still within exp + leeway: a hit"
    );
    now.store(1_800_000_065, Ordering::SeqCst);
    assert_eq!(
        verifier
            .verify(&token)
            .await
            .map(drop)
            .map_err(|e| e.kind()),
        Err(ErrorKind::Expired)
    );

    // A maximum age expires cached tokens too.
    let now = Arc::new(AtomicU64::new(1_800_000_000));
    let clock = Arc::clone(&now);
    let verifier = issuer
        .verifier_config()
        .max_age(Duration::from_secs(30))
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .expect("verifier");
    let token = issuer
        .token()
        .claim("iat", 1_800_000_000u64)
        .claim("exp", 1_800_003_600u64)
        .sign();
    assert!(verifier.verify(&token).await.is_ok());
    now.store(1_800_000_036, Ordering::SeqCst);
    assert_eq!(
        verifier
            .verify(&token)
            .await
            .map(drop)
            .map_err(|e| e.kind()),
        Err(ErrorKind::TooOld)
    );
}

#[tokio::test]
async fn a_key_rotated_out_purges_its_cached_tokens() {
    let clock = ManualClock::default();
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::None).await;
    let old = placeholder.with_issuer(idp.issuer());
    let keys = RemoteKeys::discovery(old.issuer())
        .clock(clock.reader())
        .build()
        .expect("keys");
    let verifier = VerifierConfig::new(old.issuer(), old.audience())
        .keys(keys)
        .build()
        .expect("verifier");
    let token = old.token().sign();
    assert!(verifier.verify(&token).await.is_ok(), "cached");
    assert!(verifier.verify(&token).await.is_ok(), "hit");

    let new = TestIssuer::new()
        .with_issuer(old.issuer())
        .with_kid("rotated");
    idp.set_jwks(json!({"keys": [new.public_jwk()]}));
    verifier.refresh_keys().await.expect("refresh");
    assert_eq!(
        verifier
            .verify(&token)
            .await
            .map(drop)
            .map_err(|e| e.kind()),
        Err(ErrorKind::UnknownKey)
    );
    assert!(verifier.verify(&new.token().sign()).await.is_ok());
}

#[tokio::test]
async fn a_refetch_of_the_same_keys_keeps_cached_tokens() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::None).await;
    let issuer = placeholder.with_issuer(idp.issuer());
    // A custom rule runs on full verifications only, never on a cache hit: it counts them.
    let verifications = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&verifications);
    let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .keys(
            RemoteKeys::discovery(issuer.issuer())
                .build()
                .expect("keys"),
        )
        .require(ClaimRule::check("counted", move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            true
        }))
        .build()
        .expect("verifier");
    let token = issuer.token().sign();
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(
        verifications.load(Ordering::SeqCst),
        1,
        "the second was a hit"
    );

    // The same document again, then the same keys with other formatting and order.
    verifier.refresh_keys().await.expect("refresh");
    assert!(verifier.verify(&token).await.is_ok());
    let jwk = issuer.public_jwk().expect("jwk").clone();
    let reordered: serde_json::Map<String, serde_json::Value> = jwk
        .as_object()
        .expect("object")
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    idp.set_jwks(json!({"keys": [reordered]}));
    verifier.refresh_keys().await.expect("refresh");
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(idp.jwks_hits(), 3);
    assert_eq!(
        verifications.load(Ordering::SeqCst),
        1,
        "unchanged keys keep the cache"
    );

    // Different keys (the same key plus another) start over.
    let other = TestIssuer::new().with_kid("other");
    idp.set_jwks(json!({"keys": [jwk, other.public_jwk()]}));
    verifier.refresh_keys().await.expect("refresh");
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifications.load(Ordering::SeqCst), 2);
}

#[requires_scope("write:products")]
async fn write_products() -> &'static str {
    "written"
}

#[tokio::test]
async fn scopes_are_checked_on_every_request_with_a_cached_token() {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route("/write", get(write_products))
        .route(
            "/private",
            get(|claims: Claims| async move { claims.scopes().to_string() }),
        )
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")));
    let base = spawn_app(app).await;
    let token = issuer.token().scope("read:products").sign();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let status = |path: &str| {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
        };
        assert_eq!(
            status("/private").await.expect("send").status().as_u16(),
            200
        );
        assert_eq!(status("/write").await.expect("send").status().as_u16(), 403);
    }
}
