//! How keys travel: a user-supplied HTTP client (here through a proxy) and plain HTTP to
//! private hosts, which must be asked for, through both example apps on 127.0.0.1.

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{ConfigError, ErrorKind, RemoteKeys, VerifierConfig};
use scopegate_tests::example_apps::{start_actix, start_axum};
use scopegate_tests::{FALLBACK_JWKS_PATH, Idp, Metadata, Mode};

const AUDIENCE: &str = "https://retail.example/api";
/// A docker-compose style key URL: a private name no resolver here knows.
const PRIVATE_JWKS: &str = "http://keys.internal/.well-known/jwks.json";

async fn status(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/orders"))
        .bearer_auth(token)
        .send()
        .await
        .expect("response")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_come_through_the_users_client_and_a_private_plain_http_url() {
    let issuer = TestIssuer::new()
        .with_issuer("https://tenant.example/")
        .with_audience(AUDIENCE);
    // The IdP on loopback is the proxy: the client sends it `GET http://keys.internal/...`.
    let proxy = Idp::start(issuer.jwks(), Metadata::None).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::http(proxy.url("/")).expect("proxy URL"))
        .build()
        .expect("client");

    assert!(
        matches!(
            RemoteKeys::jwks_url(PRIVATE_JWKS).build(),
            Err(ConfigError::InsecureUrl)
        ),
        "plain HTTP to a private host needs the opt-in"
    );
    let keys = RemoteKeys::jwks_url(PRIVATE_JWKS)
        .allow_plain_http_to_private_hosts(true)
        .http_client(client)
        .build()
        .expect("keys");
    let verifier = VerifierConfig::new(issuer.issuer(), AUDIENCE)
        .keys(keys)
        .build()
        .expect("verifier");
    let token = issuer.token().scope("read:orders").sign();
    for base in [
        start_axum(verifier.clone()).await,
        start_actix(verifier.clone()),
    ] {
        assert_eq!(status(&base, &token).await, 200, "{base}");
        assert_eq!(
            status(&base, &issuer.token().scope("read:products").sign()).await,
            403
        );
    }
    assert_eq!(
        proxy.hits(FALLBACK_JWKS_PATH),
        1,
        "fetched once, through the proxy"
    );
}

#[tokio::test]
async fn a_supplied_client_that_follows_redirects_is_refused_the_answer() {
    let issuer = TestIssuer::new().with_audience(AUDIENCE);
    let idp = Idp::start(issuer.jwks(), Metadata::None).await;
    let issuer = issuer.with_issuer(idp.issuer());
    // The redirect target serves a valid JWKS; the answer must still not be used.
    let elsewhere = Idp::start(issuer.jwks(), Metadata::None).await;
    idp.set_mode(Mode::Redirect(elsewhere.url(FALLBACK_JWKS_PATH)));
    let keys = RemoteKeys::jwks_url(idp.url(FALLBACK_JWKS_PATH))
        .http_client(reqwest::Client::new())
        .build()
        .expect("keys");
    let verifier = VerifierConfig::new(issuer.issuer(), AUDIENCE)
        .keys(keys)
        .build()
        .expect("verifier");
    let error = verifier
        .verify(&issuer.token().sign())
        .await
        .expect_err("no keys");
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert_eq!(
        verifier.key_status().and_then(|s| s.last_error).as_deref(),
        Some("redirected (redirects are not followed)")
    );
    assert_eq!(elsewhere.jwks_hits(), 1, "the client did follow it");
}

#[test]
fn private_plain_http_covers_compose_names_and_private_addresses_only() {
    let private = |url: &str| {
        RemoteKeys::discovery(url)
            .allow_plain_http_to_private_hosts(true)
            .build()
            .map(drop)
    };
    for url in [
        "http://keycloak:8080/realms/dev/",
        "http://10.0.0.7/",
        "http://192.168.5.1:9000/",
        "http://[fd12::1]/",
    ] {
        assert_eq!(private(url), Ok(()), "{url}");
    }
    for url in ["http://tenant.example/", "http://203.0.113.9/"] {
        assert_eq!(private(url), Err(ConfigError::InsecureUrl), "{url}");
    }
}
