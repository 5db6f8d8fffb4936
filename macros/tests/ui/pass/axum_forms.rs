use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use scopegate_tower::{AuthLayer, Claims, Verifier, requires_scope};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct NewProduct {
    pub name: String,
}

/// Docs stay on the handler.
#[requires_scope("write:products")]
pub async fn create(claims: Claims, Json(product): Json<NewProduct>) -> String {
    format!("{} {}", claims.subject().unwrap_or_default(), product.name)
}

#[requires_scope("read:orders", "read:analytics")]
async fn reports() -> &'static str {
    "reports"
}

#[requires_scope(any("read:orders", "read:analytics"))]
async fn any_of(Path(id): Path<u32>) -> String {
    id.to_string()
}

#[requires_scope(all("delete:analytics"))]
async fn with_state(State(name): State<String>, body: String) -> String {
    format!("{name} {body}")
}

#[requires_scope("read:api/v1.users", "read:x-y_z~")]
async fn rfc6749_characters() {}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/products", post(create))
        .route("/reports", get(reports))
        .route("/any/{id}", get(any_of))
        .route("/state", post(with_state))
        .route("/chars", get(rfc6749_characters))
        .with_state("retail".to_owned())
        .layer(AuthLayer::new(verifier))
}

fn main() {
    let _ = app;
}
