//! scopegate-tower beyond the example: route layers, macro forms, optional auth, custom
//! claims, the rejection hook, realms, keys fetched on first use, and plain tower stacks.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::Response;
use axum::routing::get;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{RemoteKeys, VerifierConfig};
use scopegate_tests::{Idp, Metadata, Mode, spawn_app};
use scopegate_tower::{AuthError, AuthLayer, Claims, RequireScopes, Verifier, requires_scope};
use serde::Deserialize;
use tower::{Layer, Service, ServiceExt};

async fn call(
    base: &str,
    path: &str,
    authorization: Option<String>,
) -> (u16, Option<String>, String) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, challenge, response.text().await.expect("body"))
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

#[requires_scope(any("read:orders", "read:analytics"))]
async fn any_of() -> &'static str {
    "any"
}

#[requires_scope(all("read:orders", "read:analytics"))]
async fn all_of() -> &'static str {
    "all"
}

#[tokio::test]
async fn route_layers_and_macro_forms_enforce_all_or_any() {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route(
            "/layer-all",
            get(|| async { "ok" })
                .route_layer(RequireScopes::all(["read:orders", "read:analytics"])),
        )
        .route(
            "/layer-any",
            get(|| async { "ok" })
                .route_layer(RequireScopes::any(["read:orders", "read:analytics"])),
        )
        .route("/macro-any", get(any_of))
        .route("/macro-all", get(all_of))
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")));
    let base = spawn_app(app).await;
    let orders = || bearer(issuer.token().scope("read:orders").sign());
    let both = || bearer(issuer.token().scope("read:analytics read:orders").sign());
    for path in ["/layer-all", "/macro-all"] {
        let (status, challenge, _) = call(&base, path, orders()).await;
        assert_eq!(status, 403, "{path}");
        assert!(
            challenge.is_some_and(|c| c.ends_with(r#"scope="read:orders read:analytics""#)),
            "{path}"
        );
        assert_eq!(call(&base, path, both()).await.0, 200, "{path}");
    }
    for path in ["/layer-any", "/macro-any"] {
        assert_eq!(call(&base, path, orders()).await.0, 200, "{path}");
        assert_eq!(
            call(
                &base,
                path,
                bearer(issuer.token().scope("write:orders").sign())
            )
            .await
            .0,
            403,
            "{path}"
        );
    }
}

async fn maybe_user(claims: Option<Claims>) -> String {
    match claims {
        Some(claims) => format!("user {}", claims.subject().unwrap_or_default()),
        None => "anonymous".to_owned(),
    }
}

#[tokio::test]
async fn optional_auth_passes_anonymous_requests_but_not_invalid_tokens() {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route("/maybe", get(maybe_user))
        .route(
            "/needs-token",
            get(|claims: Claims| async move { claims.scopes().to_string() }),
        )
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")).optional());
    let base = spawn_app(app).await;
    assert_eq!(
        call(&base, "/maybe", None).await,
        (200, None, "anonymous".into())
    );
    assert_eq!(
        call(
            &base,
            "/maybe",
            bearer(issuer.token().subject("auth0|ivy").sign())
        )
        .await
        .2,
        "user auth0|ivy"
    );
    assert_eq!(
        call(&base, "/maybe", bearer(issuer.token().expired().sign()))
            .await
            .0,
        401
    );
    // A non-optional extractor behind an optional layer still needs a token.
    let (status, challenge, _) = call(&base, "/needs-token", None).await;
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some(r#"Bearer realm="api""#))
    );
}

#[derive(Deserialize)]
struct Retail {
    #[serde(rename = "https://retail.example/tier")]
    tier: String,
}

#[tokio::test]
async fn custom_claim_structs_are_extracted_or_refused() {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route(
            "/tier",
            get(|claims: Claims<Retail>| async move { claims.custom().tier.clone() }),
        )
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")));
    let base = spawn_app(app).await;
    let gold = issuer
        .token()
        .claim("https://retail.example/tier", "gold")
        .sign();
    assert_eq!(call(&base, "/tier", bearer(gold)).await.2, "gold");
    let (status, challenge, _) = call(&base, "/tier", bearer(issuer.token().sign())).await;
    assert_eq!(status, 401);
    assert!(challenge.is_some_and(|c| c.contains(r#"error="invalid_token""#)));

    // Optional authentication: a token whose claims do not fit is refused, not anonymous.
    let app = Router::new()
        .route(
            "/maybe-tier",
            get(|claims: Option<Claims<Retail>>| async move {
                claims.map_or("anonymous".to_owned(), |c| c.custom().tier.clone())
            }),
        )
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")).optional());
    let base = spawn_app(app).await;
    assert_eq!(call(&base, "/maybe-tier", None).await.2, "anonymous");
    let gold = issuer
        .token()
        .claim("https://retail.example/tier", "gold")
        .sign();
    assert_eq!(call(&base, "/maybe-tier", bearer(gold)).await.2, "gold");
    let (status, challenge, _) = call(&base, "/maybe-tier", bearer(issuer.token().sign())).await;
    assert_eq!(status, 401);
    assert!(challenge.is_some_and(|c| c.contains(r#"error="invalid_token""#)));
}

#[requires_scope("write:products")]
async fn guarded() -> &'static str {
    "written"
}

#[tokio::test]
async fn one_rejection_hook_answers_every_refusal_and_the_realm_is_configurable() {
    let issuer = TestIssuer::new();
    let hook = |error: AuthError| {
        let mut response = error.to_response::<Body>("orders");
        *response.body_mut() = Body::from(format!("custom {}", error.status().as_u16()));
        response
    };
    let app = Router::new()
        .route("/macro", get(guarded))
        .route(
            "/layer",
            get(|| async { "ok" }).route_layer(RequireScopes::all(["write:products"])),
        )
        .route(
            "/claims",
            get(|claims: Claims<Retail>| async move { claims.custom().tier.clone() }),
        )
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")).rejection(hook));
    let base = spawn_app(app).await;
    let reader = || bearer(issuer.token().scope("read:products").sign());
    assert_eq!(
        call(&base, "/macro", None).await.2,
        "custom 401",
        "auth layer refusal"
    );
    assert_eq!(
        call(&base, "/macro", reader()).await.2,
        "custom 403",
        "macro guard refusal"
    );
    assert_eq!(
        call(&base, "/layer", reader()).await.2,
        "custom 403",
        "route layer refusal"
    );
    assert_eq!(
        call(&base, "/claims", reader()).await.2,
        "custom 401",
        "extractor refusal"
    );
    let (_, challenge, _) = call(&base, "/macro", None).await;
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="orders""#));

    let realm_app = Router::new()
        .route("/macro", get(guarded))
        .layer(AuthLayer::new(issuer.verifier().expect("verifier")).realm("retail \"api\""));
    let base = spawn_app(realm_app).await;
    let (status, challenge, _) = call(&base, "/macro", reader()).await;
    assert_eq!(status, 403);
    assert!(challenge.is_some_and(|c| {
        c.starts_with(r#"Bearer realm="retail \"api\"", error="insufficient_scope""#)
    }));
}

#[tokio::test]
async fn keys_fetched_on_first_use_and_issuer_outages_through_the_layer() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder.with_issuer(idp.issuer());
    let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .build()
        .expect("verifier");
    let app = Router::new()
        .route("/macro", get(guarded))
        .layer(AuthLayer::new(verifier));
    let base = spawn_app(app).await;
    let writer = || bearer(issuer.token().scope("write:products").sign());
    // Cold cache: the layer waits for the keys, then answers.
    assert_eq!(
        call(&base, "/macro", writer()).await,
        (200, None, "written".into())
    );
    assert_eq!(idp.jwks_hits(), 1);

    // An issuer that is down from the start: 503 with Retry-After and no challenge.
    let down = Idp::start(placeholder_jwks(), Metadata::None).await;
    down.set_mode(Mode::Status(500));
    let keys = RemoteKeys::discovery(down.issuer()).build().expect("keys");
    let verifier = VerifierConfig::new(down.issuer(), issuer.audience())
        .keys(keys)
        .build()
        .expect("verifier");
    let base = spawn_app(
        Router::new()
            .route("/macro", get(guarded))
            .layer(AuthLayer::new(verifier)),
    )
    .await;
    let token = TestIssuer::new()
        .with_issuer(down.issuer())
        .token()
        .scope("write:products")
        .sign();
    let response = reqwest::Client::new()
        .get(format!("{base}/macro"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().get("retry-after").is_some());
    assert!(response.headers().get("www-authenticate").is_none());
}

fn placeholder_jwks() -> serde_json::Value {
    TestIssuer::new().jwks()
}

#[tokio::test]
async fn the_layer_serves_any_tower_stack_with_any_body() {
    let issuer = TestIssuer::new();
    let verifier: Verifier = issuer.verifier().expect("verifier");
    let inner = tower::service_fn(|request: http::Request<String>| async move {
        let sub = request
            .extensions()
            .get::<scopegate_core::VerifiedToken>()
            .and_then(|t| t.subject().map(str::to_owned));
        Ok::<_, Infallible>(Response::new(format!("hello {}", sub.unwrap_or_default())))
    });
    let mut service = AuthLayer::new(verifier).layer(inner);
    let request = http::Request::builder()
        .header(
            "authorization",
            format!("Bearer {}", issuer.token().subject("auth0|ivy").sign()),
        )
        .body(String::new())
        .expect("request");
    let response = service
        .ready()
        .await
        .expect("ready")
        .call(request)
        .await
        .expect("infallible");
    assert_eq!(response.body(), "hello auth0|ivy");
    let response = service
        .oneshot(http::Request::new(String::new()))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 401);
    assert!(response.body().contains(r#""error":"unauthorized""#));
}
