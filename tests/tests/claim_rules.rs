//! Per-route claim rules (`RequireClaims`, `#[requires_claim]`), scopes from nested claims
//! and opt-in scope tokens, through real axum and actix apps answering alike.

use actix_web::{HttpResponse, web};
use axum::Router;
use axum::routing::get;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Requirement, ScopeSource, Verifier};
use scopegate_tests::{spawn_actix_app, spawn_app};

mod axum_app {
    use scopegate_tower::{requires_claim, requires_scope};

    #[requires_claim(equals("org_id", "acme"))]
    pub(crate) async fn org() -> &'static str {
        "acme"
    }

    #[requires_claim(includes("https://retail.example/roles", "billing"))]
    #[requires_scope("read:invoices")]
    pub(crate) async fn invoices() -> &'static str {
        "invoices"
    }
}

mod actix_app {
    use actix_web::{HttpResponse, get};
    use scopegate_actix::{requires_claim, requires_scope};

    #[get("/org")]
    #[requires_claim(equals("org_id", "acme"))]
    pub(crate) async fn org() -> HttpResponse {
        HttpResponse::Ok().body("acme")
    }

    #[get("/invoices")]
    #[requires_claim(includes("https://retail.example/roles", "billing"))]
    #[requires_scope("read:invoices")]
    pub(crate) async fn invoices() -> HttpResponse {
        HttpResponse::Ok().body("invoices")
    }
}

fn admin() -> Requirement {
    Requirement::any_tokens(["admin"]).expect("a scope token")
}

async fn start_axum(verifier: Verifier) -> String {
    use scopegate_tower::{AuthLayer, RequireClaims, RequireScopes};
    let app = Router::new()
        .route("/org", get(axum_app::org))
        .route("/invoices", get(axum_app::invoices))
        .route(
            "/billing",
            get(|| async { "billing" }).route_layer(RequireClaims::includes(
                "https://retail.example/roles",
                ["billing"],
            )),
        )
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopes::new(admin())),
        )
        .layer(AuthLayer::new(verifier));
    spawn_app(app).await
}

fn start_actix(verifier: Verifier) -> String {
    use scopegate_actix::{RequireClaims, RequireScopes, ScopeGate};
    spawn_actix_app(move |config: &mut web::ServiceConfig| {
        config.service(
            web::scope("")
                .wrap(ScopeGate::new(verifier.clone()))
                .service(actix_app::org)
                .service(actix_app::invoices)
                .service(
                    web::resource("/billing")
                        .wrap(RequireClaims::includes(
                            "https://retail.example/roles",
                            ["billing"],
                        ))
                        .to(|| async { HttpResponse::Ok().body("billing") }),
                )
                .service(
                    web::resource("/admin")
                        .wrap(RequireScopes::new(admin()))
                        .to(|| async { HttpResponse::Ok().body("admin") }),
                ),
        );
    })
}

/// Status and `WWW-Authenticate` of `GET path` with `token`.
async fn answer(base: &str, path: &str, token: Option<&str>) -> (u16, Option<String>) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("response");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (response.status().as_u16(), challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_rules_and_scope_tokens_hold_per_route_on_both_adapters() {
    let issuer = TestIssuer::new();
    // Keycloak-style realm roles count as scopes too.
    let verifier = issuer
        .verifier_config()
        .scope_source(ScopeSource::union(
            ScopeSource::Scope,
            ScopeSource::nested(["realm_access", "roles"]),
        ))
        .build()
        .expect("verifier");
    let roles = "https://retail.example/roles";
    let sign = |claims: &[(&str, serde_json::Value)], scope: &str| {
        claims
            .iter()
            .fold(issuer.token().scope(scope), |token, (name, value)| {
                token.claim(name, value.clone())
            })
            .sign()
    };
    let acme = sign(&[("org_id", "acme".into())], "");
    let globex = sign(&[("org_id", "globex".into())], "");
    let billing = sign(
        &[(roles, serde_json::json!(["eu", "billing"]))],
        "read:invoices",
    );
    let billing_string = sign(&[(roles, "billing eu".into())], "");
    let billing_unscoped = sign(&[(roles, serde_json::json!(["billing"]))], "");
    let scoped_only = sign(&[], "read:invoices");
    let realm_admin = sign(
        &[("realm_access", serde_json::json!({"roles": ["admin"]}))],
        "",
    );
    let realm_user = sign(
        &[("realm_access", serde_json::json!({"roles": ["user"]}))],
        "",
    );

    let claim_refused = Some(
        r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a claim this route requires""#
            .to_owned(),
    );
    let scope_refused = |scope: &str| {
        Some(format!(
            r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="{scope}""#
        ))
    };
    let cases = [
        ("/org", Some(&acme), (200, None)),
        ("/org", Some(&globex), (403, claim_refused.clone())),
        ("/org", Some(&billing), (403, claim_refused.clone())),
        (
            "/org",
            None,
            (401, Some(r#"Bearer realm="api""#.to_owned())),
        ),
        ("/billing", Some(&billing), (200, None)),
        ("/billing", Some(&billing_string), (200, None)),
        ("/billing", Some(&acme), (403, claim_refused.clone())),
        ("/invoices", Some(&billing), (200, None)),
        (
            "/invoices",
            Some(&billing_unscoped),
            (403, scope_refused("read:invoices")),
        ),
        (
            "/invoices",
            Some(&scoped_only),
            (403, claim_refused.clone()),
        ),
        ("/admin", Some(&realm_admin), (200, None)),
        ("/admin", Some(&realm_user), (403, scope_refused("admin"))),
    ];
    let axum = start_axum(verifier.clone()).await;
    let actix = start_actix(verifier);
    for (index, (path, token, want)) in cases.iter().enumerate() {
        let token = token.map(String::as_str);
        assert_eq!(
            &answer(&axum, path, token).await,
            want,
            "axum: case {index} {path}"
        );
        assert_eq!(
            &answer(&actix, path, token).await,
            want,
            "actix: case {index} {path}"
        );
    }
}
