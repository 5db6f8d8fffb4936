//! Token sources per layer: a cookie, a header of its own, or `Authorization`, with real
//! axum and actix apps on 127.0.0.1 answering every case alike.

use actix_web::{HttpResponse, web};
use axum::Router;
use axum::routing::get;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{TokenSource, Verifier};
use scopegate_tests::{spawn_actix_app, spawn_app};

/// `/web/orders` reads `Authorization`, then the `access_token` cookie; `/device/orders`
/// reads only `X-Device-Token`. Both need `read:orders`; one verifier serves both.
fn sources() -> (Vec<TokenSource>, Vec<TokenSource>) {
    (
        vec![
            TokenSource::Authorization,
            TokenSource::cookie("access_token"),
        ],
        vec![TokenSource::header("X-Device-Token")],
    )
}

async fn start_axum(verifier: Verifier) -> String {
    let (web_sources, device_sources) = sources();
    let orders = || get(|| async { "orders" });
    let web = Router::new()
        .route("/web/orders", orders())
        .route_layer(scopegate_tower::RequireScopes::all(["read:orders"]))
        .layer(scopegate_tower::AuthLayer::new(verifier.clone()).token_sources(web_sources));
    let device = Router::new()
        .route("/device/orders", orders())
        .route_layer(scopegate_tower::RequireScopes::all(["read:orders"]))
        .layer(scopegate_tower::AuthLayer::new(verifier).token_sources(device_sources));
    spawn_app(web.merge(device)).await
}

fn start_actix(verifier: Verifier) -> String {
    spawn_actix_app(move |config: &mut web::ServiceConfig| {
        let (web_sources, device_sources) = sources();
        let orders = || {
            web::resource("/orders")
                .wrap(scopegate_actix::RequireScopes::all(["read:orders"]))
                .to(|| async { HttpResponse::Ok().body("orders") })
        };
        config
            .service(
                web::scope("/web")
                    .wrap(
                        scopegate_actix::ScopeGate::new(verifier.clone())
                            .token_sources(web_sources),
                    )
                    .service(orders()),
            )
            .service(
                web::scope("/device")
                    .wrap(
                        scopegate_actix::ScopeGate::new(verifier.clone())
                            .token_sources(device_sources),
                    )
                    .service(orders()),
            );
    })
}

/// Status and the `error` code of the challenge (`-` for none) of one request.
async fn answer(base: &str, path: &str, headers: &[(&str, String)]) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("response");
    let code = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split("error=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("-")
        .to_owned();
    (response.status().as_u16(), code)
}

/// (name, path, request headers, status and challenge error code).
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, (u16, String));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_layer_reads_the_sources_it_names_on_both_adapters() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("verifier");
    let good = issuer.token().scope("read:orders").sign();
    let other = issuer
        .token()
        .scope("read:orders")
        .subject("auth0|other")
        .sign();
    let unscoped = issuer.token().scope("read:products").sign();
    let expired = issuer.token().scope("read:orders").expired().sign();
    let cookie = |token: &str| ("cookie", format!("theme=dark; access_token={token}"));
    let bearer = |token: &str| ("authorization", format!("Bearer {token}"));
    let device = |token: &str| ("x-device-token", token.to_owned());
    let ok = (200, "-".to_owned());
    let code = |status: u16, code: &str| (status, code.to_owned());
    let cases: Vec<Case<'_>> = vec![
        ("cookie", "/web/orders", vec![cookie(&good)], ok.clone()),
        ("bearer", "/web/orders", vec![bearer(&good)], ok.clone()),
        (
            "bearer first, over a cookie",
            "/web/orders",
            vec![bearer(&good), cookie(&expired)],
            ok.clone(),
        ),
        (
            "cookie without the scope",
            "/web/orders",
            vec![cookie(&unscoped)],
            code(403, "insufficient_scope"),
        ),
        (
            "expired cookie",
            "/web/orders",
            vec![cookie(&expired)],
            code(401, "invalid_token"),
        ),
        (
            "two access_token cookies",
            "/web/orders",
            vec![(
                "cookie",
                format!("access_token={good}; access_token={other}"),
            )],
            code(400, "invalid_request"),
        ),
        ("nothing", "/web/orders", vec![], code(401, "-")),
        (
            "device header",
            "/device/orders",
            vec![device(&good)],
            ok.clone(),
        ),
        (
            "cookie where only the device header is read",
            "/device/orders",
            vec![cookie(&good)],
            code(401, "-"),
        ),
        (
            "bearer where only the device header is read",
            "/device/orders",
            vec![bearer(&good)],
            code(401, "-"),
        ),
        (
            "device header holding a scheme",
            "/device/orders",
            vec![("x-device-token", format!("Bearer {good}"))],
            code(400, "invalid_request"),
        ),
    ];
    let axum = start_axum(verifier.clone()).await;
    let actix = start_actix(verifier);
    for (name, path, headers, want) in &cases {
        let from_axum = answer(&axum, path, headers).await;
        assert_eq!(&from_axum, want, "axum: {name}");
        assert_eq!(
            answer(&actix, path, headers).await,
            from_axum,
            "actix: {name}"
        );
    }
}
