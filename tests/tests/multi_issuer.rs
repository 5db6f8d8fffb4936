//! One verifier trusting several issuers, through both example apps on 127.0.0.1: the
//! unverified `iss` picks the issuer before any key fetch, each issuer's keys verify only
//! its own tokens, aliases share their issuer's keys, and an unknown `iss` is refused
//! without a fetch.

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{ConfigError, ErrorKind, Issuer, Verifier, VerifierConfig};
use scopegate_tests::example_apps::{start_actix, start_axum};
use scopegate_tests::{Idp, Metadata};

const AUDIENCE: &str = "https://retail.example/api";
const ALIAS: &str = "https://login.retail.example/";

/// Status and `WWW-Authenticate` of `GET /api/orders` with `token`.
async fn orders(base: &str, token: &str) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/orders"))
        .bearer_auth(token)
        .send()
        .await
        .expect("response");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (response.status().as_u16(), challenge)
}

/// Two issuers on loopback, each with its own key (same `kid`, as Auth0 tenants often
/// have), and a verifier trusting both, the first also under an alias.
async fn two_issuers() -> (TestIssuer, Idp, TestIssuer, Idp, Verifier) {
    let a = TestIssuer::new().with_audience(AUDIENCE);
    let idp_a = Idp::start(a.jwks(), Metadata::Oidc).await;
    let a = a.with_issuer(idp_a.issuer());
    let b = TestIssuer::new().with_audience(AUDIENCE);
    let idp_b = Idp::start(b.jwks(), Metadata::Oidc).await;
    let b = b.with_issuer(idp_b.issuer());
    assert_eq!(a.kid(), b.kid());
    let verifier = VerifierConfig::new(a.issuer(), AUDIENCE)
        .issuer_alias(ALIAS)
        .additional_issuer(Issuer::new(b.issuer()))
        .build()
        .expect("verifier");
    (a, idp_a, b, idp_b, verifier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_issuer_verifies_only_its_own_tokens_on_both_adapters() {
    let (a, idp_a, b, idp_b, verifier) = two_issuers().await;
    let adapters = [
        ("axum", start_axum(verifier.clone()).await),
        ("actix", start_actix(verifier.clone())),
    ];
    fn scoped(issuer: &TestIssuer) -> scopegate_core::test_util::TokenBuilder<'_> {
        issuer.token().scope("read:orders")
    }
    let from_a = scoped(&a).sign();
    let from_alias = scoped(&a).claim("iss", ALIAS).sign();
    let from_b = scoped(&b).sign();
    let b_claimed_with_a_key = scoped(&a).claim("iss", b.issuer()).sign();
    let a_claimed_with_b_key = scoped(&b).claim("iss", a.issuer()).sign();
    let unknown_issuer = scoped(&a).claim("iss", "https://evil.example/").sign();
    let issuer_case = scoped(&a).claim("iss", a.issuer().to_uppercase()).sign();
    let no_issuer = scoped(&a).without_claim("iss").sign();
    let invalid = |description: &str| {
        Some(format!(
            r#"Bearer realm="api", error="invalid_token", error_description="{description}""#
        ))
    };
    for (adapter, base) in &adapters {
        for (name, token, want) in [
            ("A", &from_a, (200, None)),
            ("A's alias", &from_alias, (200, None)),
            ("B", &from_b, (200, None)),
        ] {
            assert_eq!(orders(base, token).await, want, "{adapter}: {name}");
        }
        for (name, token) in [
            ("B claimed, A's key", &b_claimed_with_a_key),
            ("A claimed, B's key", &a_claimed_with_b_key),
        ] {
            assert_eq!(
                orders(base, token).await,
                (401, invalid("The access token signature is invalid")),
                "{adapter}: {name}"
            );
        }
        for (name, token) in [
            ("unknown issuer", &unknown_issuer),
            ("issuer in other case", &issuer_case),
        ] {
            let (status, challenge) = orders(base, token).await;
            assert_eq!(status, 401, "{adapter}: {name}");
            assert!(
                challenge.is_some_and(|c| c.contains(r#"error="invalid_token""#)),
                "{adapter}: {name}"
            );
        }
        let (status, _) = orders(base, &no_issuer).await;
        assert_eq!(status, 401, "{adapter}: no iss");
    }
    // One discovery and one JWKS fetch per issuer, shared by both apps; no token caused
    // another, whatever issuer it claimed.
    for idp in [&idp_a, &idp_b] {
        assert_eq!(
            (
                idp.hits("/.well-known/openid-configuration"),
                idp.jwks_hits()
            ),
            (1, 1)
        );
    }
}

#[tokio::test]
async fn an_unknown_issuer_is_refused_before_any_fetch() {
    let (a, idp_a, _b, idp_b, verifier) = two_issuers().await;
    let token = a.token().claim("iss", "https://evil.example/").sign();
    let error = verifier.verify(&token).await.expect_err("untrusted");
    assert_eq!(error.kind(), ErrorKind::InvalidIssuer);
    assert_eq!((idp_a.jwks_hits(), idp_b.jwks_hits()), (0, 0));
    let wrong_type = a.token().claim("iss", 7).sign();
    assert_eq!(
        verifier
            .verify(&wrong_type)
            .await
            .map(drop)
            .map_err(|e| e.kind()),
        Err(ErrorKind::InvalidClaim)
    );
    assert_eq!((idp_a.jwks_hits(), idp_b.jwks_hits()), (0, 0));

    // Each issuer has its own cache: B down does not stop A.
    idp_b.stop().await;
    assert!(verifier.verify(&a.token().sign()).await.is_ok());
    assert!(
        verifier.refresh_keys().await.is_err(),
        "B's keys are unavailable"
    );
    let a_status = verifier.issuer_key_status(ALIAS).expect("A is remote");
    assert_eq!((a_status.key_count, a_status.consecutive_failures), (1, 0));
    let b_status = verifier
        .issuer_key_status(&idp_b.issuer())
        .expect("B is remote");
    assert_eq!(b_status.key_count, 0);
    assert!(b_status.consecutive_failures >= 1);
    assert!(
        verifier
            .issuer_key_status("https://evil.example/")
            .is_none()
    );
}

#[test]
fn issuer_lists_are_bounded_and_unambiguous() {
    let build = |config: VerifierConfig| config.build().map(drop).err();
    let base = || VerifierConfig::new("https://a.example/", AUDIENCE);
    let many = (0..VerifierConfig::MAX_ISSUERS).fold(base(), |config, i| {
        config.additional_issuer(Issuer::new(format!("https://t{i}.example/")))
    });
    assert_eq!(build(many), Some(ConfigError::TooManyIssuers));
    let just_enough = (1..VerifierConfig::MAX_ISSUERS).fold(base(), |config, i| {
        config.additional_issuer(Issuer::new(format!("https://t{i}.example/")))
    });
    assert_eq!(build(just_enough), None);
    assert_eq!(
        build(base().issuer_alias("https://a.example/")),
        Some(ConfigError::DuplicateIssuer)
    );
    assert_eq!(
        build(
            base().additional_issuer(Issuer::new("https://b.example/").alias("https://a.example/"))
        ),
        Some(ConfigError::DuplicateIssuer)
    );
    assert_eq!(
        build(base().issuer_alias("")),
        Some(ConfigError::EmptyIssuer)
    );
    assert_eq!(
        build(base().additional_issuer(Issuer::new("http://b.example/"))),
        Some(ConfigError::InsecureUrl),
        "each issuer's key source is checked"
    );
    assert_eq!(
        Issuer::auth0("partners.us.auth0.com")
            .alias("https://login.partners.example/")
            .names(),
        [
            "https://partners.us.auth0.com/",
            "https://login.partners.example/"
        ]
    );
}
