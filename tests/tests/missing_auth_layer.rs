//! Scope rules without an auth layer fail closed (401) and say why in the log. Alone in
//! its test binary because it captures `tracing` output.

use axum::Router;
use axum::routing::get;
use scopegate_tests::{CapturedLog, spawn_app};
use scopegate_tower::{Claims, RequireScopes, requires_scope};

#[requires_scope("write:products")]
async fn guarded() -> &'static str {
    "must never run"
}

#[tokio::test]
async fn every_scope_rule_refuses_without_the_auth_layer_and_logs_it() {
    let log = CapturedLog::default();
    let _guard = log.install(tracing::Level::WARN);
    let app = Router::new()
        .route("/macro", get(guarded))
        .route(
            "/layer",
            get(|| async { "must never run" }).route_layer(RequireScopes::all(["write:products"])),
        )
        .route(
            "/claims",
            get(|claims: Claims| async move { claims.scopes().to_string() }),
        );
    let base = spawn_app(app).await;
    for path in ["/macro", "/layer", "/claims"] {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("authorization", "Bearer a.b.c")
            .send()
            .await
            .expect("response");
        assert_eq!(response.status().as_u16(), 401, "{path}");
        assert_ne!(
            response.text().await.expect("body"),
            "must never run",
            "{path}"
        );
    }
    let lines = log.take_lines();
    let missing = lines
        .iter()
        .filter(|line| line.contains("authentication layer is missing"))
        .count();
    assert_eq!(missing, 3, "{lines:#?}");
}
