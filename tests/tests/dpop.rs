//! DPoP (RFC 9449) through real axum and actix apps on 127.0.0.1: tokens bound to a
//! client key, proofs signed with it per request, and every way a proof can be wrong.
//! Thumbprints and `ath` are computed here independently of scopegate.

use actix_web::{HttpResponse, web};
use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Algorithm, Dpop, Verifier};
use scopegate_tests::dpop_client::{DpopClient, unix_now as now};
use scopegate_tests::{spawn_actix_app, spawn_app};
use serde_json::{Value, json};

const ALGS: &str = "ES256 ES384 PS256 RS256 EdDSA";

async fn start_axum(verifier: Verifier) -> String {
    use scopegate_tower::{AuthLayer, RequireScopes};
    let app = Router::new()
        .route(
            "/api/orders",
            get(|| async { "orders" }).route_layer(RequireScopes::all(["read:orders"])),
        )
        .layer(AuthLayer::new(verifier));
    spawn_app(app).await
}

fn start_actix(verifier: Verifier) -> String {
    use scopegate_actix::{RequireScopes, ScopeGate};
    spawn_actix_app(move |config: &mut web::ServiceConfig| {
        config.service(
            web::scope("")
                .wrap(ScopeGate::new(verifier.clone()))
                .service(
                    web::resource("/api/orders")
                        .wrap(RequireScopes::all(["read:orders"]))
                        .to(|| async { HttpResponse::Ok().body("orders") }),
                ),
        );
    })
}

/// Status and `WWW-Authenticate` of `GET /api/orders` with these headers.
async fn call(base: &str, headers: &[(&str, String)]) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{base}/api/orders"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("response");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map_or(String::new(), |v| v.to_str().expect("ascii").to_owned());
    (response.status().as_u16(), challenge)
}

fn dpop_refusal(description: &str) -> String {
    format!(
        r#"Bearer realm="api", DPoP realm="api", algs="{ALGS}", error="invalid_dpop_proof", error_description="{description}""#
    )
}

/// A token of `issuer` granting `scope`, bound to `client`'s key.
fn bound_token(issuer: &TestIssuer, client: &DpopClient, scope: &str) -> String {
    issuer
        .token()
        .scope(scope)
        .claim("cnf", json!({"jkt": client.thumbprint()}))
        .sign()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_tokens_need_a_fitting_fresh_proof_on_both_adapters() {
    let issuer = TestIssuer::new();
    let client = DpopClient::default();
    let stranger = DpopClient::default();
    let verifier = issuer
        .verifier_config()
        .dpop(Dpop::allowed())
        .build()
        .expect("verifier");
    let bound = bound_token(&issuer, &client, "read:orders");
    let bound_unscoped = bound_token(&issuer, &client, "read:products");
    let unbound = issuer.token().scope("read:orders").sign();
    let invalid_proof = dpop_refusal("The DPoP proof is invalid");

    for base in [
        start_axum(verifier.clone()).await,
        start_actix(verifier.clone()),
    ] {
        let htu = format!("{base}/api/orders");
        let dpop = |token: &str| ("authorization", format!("DPoP {token}"));
        let with = |token: &str, proof: String| vec![dpop(token), ("dpop", proof)];
        let good = |token: &str| client.proof("GET", &htu, token, |_, _| {});

        let first = good(&bound);
        assert_eq!(
            call(&base, &with(&bound, first.clone())).await,
            (200, String::new()),
            "{base}"
        );
        assert_eq!(
            call(&base, &with(&bound, first)).await,
            (401, dpop_refusal("The DPoP proof was used before")),
            "{base}: replay"
        );
        let upper = client.proof(
            "GET",
            &htu.replace("http://127.0.0.1", "HTTP://127.0.0.1"),
            &bound,
            |_, _| {},
        );
        assert_eq!(
            call(&base, &with(&bound, upper)).await.0,
            200,
            "{base}: htu normalised"
        );

        let wrong: Vec<(&str, Vec<(&str, String)>)> = vec![
            ("no proof", vec![dpop(&bound)]),
            (
                "another path",
                with(
                    &bound,
                    client.proof("GET", &format!("{base}/api/other"), &bound, |_, _| {}),
                ),
            ),
            (
                "another method",
                with(&bound, client.proof("POST", &htu, &bound, |_, _| {})),
            ),
            ("another token's ath", with(&bound, good(&unbound))),
            (
                "a key the token is not bound to",
                with(&bound, stranger.proof("GET", &htu, &bound, |_, _| {})),
            ),
            (
                "an hour old",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |_, c| c["iat"] = json!(now() - 3600)),
                ),
            ),
            (
                "from the future",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |_, c| c["iat"] = json!(now() + 600)),
                ),
            ),
            (
                "typ JWT",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |h, _| h["typ"] = json!("JWT")),
                ),
            ),
            (
                "no jti",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |_, c| {
                        c.as_object_mut().map(|c| c.remove("jti"));
                    }),
                ),
            ),
            (
                "no ath",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |_, c| {
                        c.as_object_mut().map(|c| c.remove("ath"));
                    }),
                ),
            ),
            (
                "a private key in jwk",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |h, _| h["jwk"]["d"] = json!("AAAA")),
                ),
            ),
            (
                "alg none",
                with(
                    &bound,
                    client.proof("GET", &htu, &bound, |h, _| h["alg"] = json!("none")),
                ),
            ),
            ("an unbound token", with(&unbound, good(&unbound))),
            ("garbage", with(&bound, "not.a.proof".into())),
        ];
        for (name, headers) in &wrong {
            assert_eq!(
                call(&base, headers).await,
                (401, invalid_proof.clone()),
                "{base}: {name}"
            );
        }
        let (status, challenge) = call(
            &base,
            &[dpop(&bound), ("dpop", good(&bound)), ("dpop", good(&bound))],
        )
        .await;
        assert_eq!(status, 400, "{base}: two proofs");
        assert!(
            challenge.contains(r#"error="invalid_request""#),
            "{challenge}"
        );

        // Downgrade: a bound token as a bearer token is refused (RFC 9449 §7.2).
        let (status, challenge) =
            call(&base, &[("authorization", format!("Bearer {bound}"))]).await;
        assert_eq!(status, 401, "{base}: downgrade");
        assert!(
            challenge.starts_with(r#"Bearer realm="api", error="invalid_token""#)
                && challenge.ends_with(&format!(r#"DPoP realm="api", algs="{ALGS}""#)),
            "{challenge}"
        );
        // Unbound bearer tokens still work when DPoP is allowed.
        assert_eq!(
            call(&base, &[("authorization", format!("Bearer {unbound}"))])
                .await
                .0,
            200
        );
        assert_eq!(
            call(&base, &[]).await,
            (
                401,
                format!(r#"Bearer realm="api", DPoP realm="api", algs="{ALGS}""#)
            )
        );
        // A DPoP token without the scope: the 403 challenges with DPoP.
        let (status, challenge) = call(&base, &with(&bound_unscoped, good(&bound_unscoped))).await;
        assert_eq!(status, 403);
        assert!(
            challenge.starts_with(&format!(
                r#"Bearer realm="api", DPoP realm="api", algs="{ALGS}", error="insufficient_scope""#
            )),
            "{challenge}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_dpop_turns_bearer_away() {
    let issuer = TestIssuer::new();
    let client = DpopClient::default();
    let verifier = issuer
        .verifier_config()
        .dpop(Dpop::required())
        .build()
        .expect("verifier");
    let bound = bound_token(&issuer, &client, "read:orders");
    let unbound = issuer.token().scope("read:orders").sign();
    for base in [
        start_axum(verifier.clone()).await,
        start_actix(verifier.clone()),
    ] {
        let htu = format!("{base}/api/orders");
        let headers = [
            ("authorization", format!("DPoP {bound}")),
            ("dpop", client.proof("GET", &htu, &bound, |_, _| {})),
        ];
        assert_eq!(call(&base, &headers).await.0, 200, "{base}");
        for bearer in [&unbound, &bound] {
            assert_eq!(
                call(&base, &[("authorization", format!("Bearer {bearer}"))]).await,
                (401, format!(r#"DPoP realm="api", algs="{ALGS}""#)),
                "{base}"
            );
        }
    }
}

#[test]
fn with_dpop_required_a_bearer_token_is_refused_even_on_optional_routes() {
    use scopegate_core::{AuthMode, Outcome};
    let issuer = TestIssuer::new();
    let verifier = issuer
        .verifier_config()
        .dpop(Dpop::required())
        .build()
        .expect("verifier");
    let bearer = format!("Bearer {}", issuer.token().sign());
    let decide = |authorization: Option<&str>| {
        verifier.authenticate_http_now(
            None,
            |name| match (name, authorization) {
                ("authorization", Some(value)) => vec![value.as_bytes()],
                _ => Vec::new(),
            },
            "GET",
            "/api/orders",
            AuthMode::Optional,
        )
    };
    assert!(
        matches!(decide(None), Outcome::Anonymous),
        "no credentials at all"
    );
    match decide(Some(&bearer)) {
        Outcome::Rejected(error) => assert_eq!(
            error.challenge("api").as_deref(),
            Some(format!(r#"DPoP realm="api", algs="{ALGS}""#).as_str())
        ),
        other => panic!("a bearer token passed as {other:?}"),
    }
}

#[test]
fn dpop_proofs_are_asymmetric_only() {
    let issuer = TestIssuer::new();
    let build = |dpop: Dpop| issuer.verifier_config().dpop(dpop).build().map(drop).err();
    assert_eq!(
        build(Dpop::allowed().algorithms([Algorithm::HS256])),
        Some(scopegate_core::ConfigError::DpopAlgorithms)
    );
    assert_eq!(
        build(Dpop::allowed().algorithms([])),
        Some(scopegate_core::ConfigError::DpopAlgorithms)
    );
    assert_eq!(build(Dpop::allowed().algorithms([Algorithm::ES256])), None);
}

#[tokio::test]
async fn verify_alone_refuses_bound_tokens() {
    let issuer = TestIssuer::new();
    let verifier = issuer
        .verifier_config()
        .dpop(Dpop::allowed())
        .build()
        .expect("verifier");
    let bound = issuer.token().claim("cnf", json!({"jkt": "x"})).sign();
    let error = verifier.verify(&bound).await.expect_err("needs a proof");
    assert_eq!(error.kind(), scopegate_core::ErrorKind::SenderConstrained);
}

/// The dev issuer binds a token to the key of the token request's proof; that token then
/// works with proofs on both adapters, and only with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_issuer_mints_bound_tokens_that_the_adapters_accept_with_proofs() {
    use scopegate_dev_issuer::{DevIssuer, Tenant};
    let retail = "https://retail.example/api";
    let issuer = DevIssuer::start(Tenant::built_in()).await.expect("start");
    let client = DpopClient::default();
    let endpoint = format!("{}oauth/token", issuer.issuer());
    let token_request = |proof: String| {
        reqwest::Client::new()
            .post(&endpoint)
            .header("dpop", proof)
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": "reporting-job",
                "client_secret": "reporting-job-secret",
                "audience": retail,
            }))
            .send()
    };
    let token_proof = client.proof("POST", &endpoint, "", |_, c| {
        c.as_object_mut().map(|c| c.remove("ath"));
    });
    let response = token_request(token_proof.clone()).await.expect("response");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("payload"))
            .expect("base64url"),
    )
    .expect("claims");
    assert_eq!(claims["cnf"]["jkt"], client.thumbprint());
    for (name, refused) in [
        (
            "replayed",
            token_request(token_proof).await.expect("response"),
        ),
        (
            "for another URL",
            token_request(client.proof("POST", "http://127.0.0.1:1/oauth/token", "", |_, _| {}))
                .await
                .expect("response"),
        ),
    ] {
        assert_eq!(refused.status().as_u16(), 400, "{name}");
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["error"], "invalid_dpop_proof", "{name}");
    }

    let verifier = scopegate_core::VerifierConfig::new(issuer.issuer(), retail)
        .dpop(Dpop::allowed())
        .build()
        .expect("verifier");
    for base in [
        start_axum(verifier.clone()).await,
        start_actix(verifier.clone()),
    ] {
        let htu = format!("{base}/api/orders");
        let with_proof = [
            ("authorization", format!("DPoP {token}")),
            ("dpop", client.proof("GET", &htu, &token, |_, _| {})),
        ];
        assert_eq!(call(&base, &with_proof).await.0, 200, "{base}");
        assert_eq!(
            call(&base, &[("authorization", format!("Bearer {token}"))])
                .await
                .0,
            401,
            "{base}: the bound token is no bearer token"
        );
    }
}
