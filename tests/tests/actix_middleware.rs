//! scopegate-actix beyond the example: scope middleware, optional auth, the rejection
//! hook, realms, keys fetched on first use, and outer middleware seeing rejections.

use actix_web::dev::Service;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpResponse, HttpServer, get, web};
use scopegate_actix::{
    AuthError, Claims, OptionalClaims, RequireScopes, ScopeGate, Verifier, requires_scope,
};
use scopegate_core::VerifierConfig;
use scopegate_core::test_util::TestIssuer;
use scopegate_tests::{Idp, Metadata};

/// Serves an app built by `configure` (behind `ScopeGate` from `gate`) on 127.0.0.1.
fn spawn(
    gate: impl Fn() -> ScopeGate + Send + Clone + 'static,
    configure: fn(&mut web::ServiceConfig),
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = HttpServer::new(move || {
        App::new()
            // An outer middleware: it must see refusals as ordinary responses.
            .wrap_fn(|request, service| {
                let response = service.call(request);
                async move {
                    let mut response = response.await?;
                    response.headers_mut().insert(
                        HeaderName::from_static("x-outer"),
                        HeaderValue::from_static("seen"),
                    );
                    Ok(response)
                }
            })
            .service(web::scope("").wrap(gate()).configure(configure))
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    base
}

async fn call(
    base: &str,
    path: &str,
    token: Option<String>,
) -> (u16, Option<String>, String, bool) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let outer = response.headers().get("x-outer").is_some();
    (
        status,
        challenge,
        response.text().await.expect("body"),
        outer,
    )
}

#[get("/macro-any")]
#[requires_scope(any("read:orders", "read:analytics"))]
async fn macro_any() -> HttpResponse {
    HttpResponse::Ok().body("any")
}

#[get("/maybe")]
async fn maybe(claims: Option<Claims>) -> HttpResponse {
    HttpResponse::Ok().body(match claims {
        Some(claims) => format!("user {}", claims.subject().unwrap_or_default()),
        None => "anonymous".to_owned(),
    })
}

#[derive(serde::Deserialize)]
struct Retail {
    #[serde(rename = "https://retail.example/tier")]
    tier: String,
}

fn tier_or_anonymous(claims: Option<Claims<Retail>>) -> HttpResponse {
    HttpResponse::Ok().body(match claims {
        Some(claims) => format!("tier {}", claims.custom().tier),
        None => "anonymous".to_owned(),
    })
}

#[get("/maybe-tier")]
async fn maybe_tier(claims: Option<Claims<Retail>>) -> HttpResponse {
    tier_or_anonymous(claims)
}

#[get("/optional-tier")]
async fn optional_tier(claims: OptionalClaims<Retail>) -> HttpResponse {
    tier_or_anonymous(claims.into_inner())
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .service(macro_any)
        .service(maybe)
        .service(maybe_tier)
        .service(optional_tier)
        .service(
            web::resource("/layer-all")
                .wrap(RequireScopes::all(["read:orders", "read:analytics"]))
                .to(|| async { "all" }),
        )
        .service(
            web::resource("/layer-any")
                .wrap(RequireScopes::any(["read:orders", "read:analytics"]))
                .to(|| async { "any" }),
        );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_middleware_and_macro_forms_enforce_all_or_any() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("verifier");
    let base = spawn(move || ScopeGate::new(verifier.clone()), routes);
    let orders = || Some(issuer.token().scope("read:orders").sign());
    let (status, challenge, _, outer) = call(&base, "/layer-all", orders()).await;
    assert_eq!(status, 403);
    assert!(challenge.is_some_and(|c| c.ends_with(r#"scope="read:orders read:analytics""#)));
    assert!(outer, "outer middleware sees the refusal");
    assert_eq!(
        call(
            &base,
            "/layer-all",
            Some(issuer.token().scope("read:analytics read:orders").sign())
        )
        .await
        .0,
        200
    );
    for path in ["/layer-any", "/macro-any"] {
        assert_eq!(call(&base, path, orders()).await.0, 200, "{path}");
        assert_eq!(
            call(
                &base,
                path,
                Some(issuer.token().scope("write:orders").sign())
            )
            .await
            .0,
            403,
            "{path}"
        );
    }
    let (status, _, _, outer) = call(&base, "/macro-any", None).await;
    assert_eq!(
        (status, outer),
        (401, true),
        "the gate's own refusal reaches outer middleware"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_gate_passes_anonymous_requests_but_not_invalid_tokens() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("verifier");
    let base = spawn(move || ScopeGate::new(verifier.clone()).optional(), routes);
    assert_eq!(call(&base, "/maybe", None).await.2, "anonymous");
    assert_eq!(
        call(
            &base,
            "/maybe",
            Some(issuer.token().subject("auth0|ivy").sign())
        )
        .await
        .2,
        "user auth0|ivy"
    );
    assert_eq!(
        call(&base, "/maybe", Some(issuer.token().expired().sign()))
            .await
            .0,
        401
    );
    assert_eq!(
        call(&base, "/macro-any", None).await.0,
        401,
        "scope rules still need a token"
    );
}

/// A token whose claims do not fit the handler's struct is refused, never anonymous:
/// through `OptionalClaims` before the handler runs, and through actix-web's
/// `Option<Claims<T>>` (which turns the refusal into `None`) by the gate once the handler
/// returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_claims_that_do_not_fit_are_refused_not_anonymous() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("verifier");
    let base = spawn(move || ScopeGate::new(verifier.clone()).optional(), routes);
    let gold = issuer
        .token()
        .claim("https://retail.example/tier", "gold")
        .sign();
    for path in ["/maybe-tier", "/optional-tier"] {
        assert_eq!(call(&base, path, None).await.2, "anonymous", "{path}");
        assert_eq!(
            call(&base, path, Some(gold.clone())).await.2,
            "tier gold",
            "{path}"
        );
        let (status, challenge, body, outer) = call(&base, path, Some(issuer.token().sign())).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(
            challenge.is_some_and(|c| c.contains(r#"error="invalid_token""#)),
            "{path}"
        );
        assert!(body.contains("invalid_token") && outer, "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rejection_hook_answers_every_refusal_and_the_realm_is_configurable() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("verifier");
    let gate = move || {
        ScopeGate::new(verifier.clone()).rejection(|error: AuthError| {
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(error.status().as_u16()).expect("status"),
            )
            .body(format!("custom {}", error.status().as_u16()))
        })
    };
    let base = spawn(gate, routes);
    let writer = || Some(issuer.token().scope("write:products").sign());
    assert_eq!(
        call(&base, "/macro-any", None).await.2,
        "custom 401",
        "gate refusal"
    );
    assert_eq!(
        call(&base, "/macro-any", writer()).await.2,
        "custom 403",
        "macro guard refusal"
    );
    assert_eq!(
        call(&base, "/layer-all", writer()).await.2,
        "custom 403",
        "scope middleware refusal"
    );

    let verifier = issuer.verifier().expect("verifier");
    let base = spawn(
        move || ScopeGate::new(verifier.clone()).realm("orders"),
        routes,
    );
    assert_eq!(
        call(&base, "/macro-any", None).await.1.as_deref(),
        Some(r#"Bearer realm="orders""#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_fetched_on_first_use_and_issuer_outages_through_the_gate() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder.with_issuer(idp.issuer());
    let verifier: Verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .build()
        .expect("verifier");
    let base = spawn(move || ScopeGate::new(verifier.clone()), routes);
    let (status, _, body, _) = call(
        &base,
        "/macro-any",
        Some(issuer.token().scope("read:orders").sign()),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, "any"),
        "cold cache: the gate waits for the keys"
    );
    assert_eq!(idp.jwks_hits(), 1);

    let down = Idp::start(TestIssuer::new().jwks(), Metadata::None).await;
    down.set_mode(scopegate_tests::Mode::Status(500));
    let verifier: Verifier = VerifierConfig::new(down.issuer(), issuer.audience())
        .build()
        .expect("verifier");
    let base = spawn(move || ScopeGate::new(verifier.clone()), routes);
    let token = TestIssuer::new()
        .with_issuer(down.issuer())
        .token()
        .scope("read:orders")
        .sign();
    let response = reqwest::Client::new()
        .get(format!("{base}/macro-any"))
        .bearer_auth(token)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().get("retry-after").is_some());
    assert!(response.headers().get("www-authenticate").is_none());
}
