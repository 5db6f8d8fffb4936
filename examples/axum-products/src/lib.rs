//! The scopegate route contract (the table below, as in the README) as an axum app.
//!
//! | route | rule |
//! |---|---|
//! | GET /api/public | no token needed |
//! | GET /api/private | any valid token |
//! | GET /api/products | `read:products` |
//! | POST /api/products | `write:products` |
//! | GET /api/orders | `read:orders` |
//! | DELETE /api/analytics | `delete:analytics` |
//! | GET /api/reports | `read:orders` and `read:analytics` |

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use example_common::INVALID_BODY;
pub use example_common::{Config, ConfigProblem, NewProduct, Setup};
use scopegate_tower::{AuthLayer, Claims, Verifier, requires_scope};
use serde_json::{Value, json};

/// The router: `/api/public` open, everything else behind `AuthLayer`.
pub fn app(verifier: Verifier) -> Router {
    let protected = Router::new()
        .route("/api/private", get(private))
        .route("/api/products", get(list_products).post(create_product))
        .route("/api/orders", get(list_orders))
        .route("/api/analytics", delete(delete_analytics))
        .route("/api/reports", get(reports))
        .layer(AuthLayer::new(verifier));
    Router::new()
        .route("/api/public", get(public))
        .merge(protected)
}

async fn public() -> Json<Value> {
    Json(json!({"message": "Public: no token needed."}))
}

async fn private(claims: Claims) -> Json<Value> {
    Json(
        json!({"message": "Private: any valid token.", "sub": claims.subject(), "scopes": claims.scopes().to_string()}),
    )
}

#[requires_scope("read:products")]
async fn list_products() -> Json<Value> {
    Json(json!({"products": [{"id": 1, "name": "Espresso machine"}, {"id": 2, "name": "Grinder"}]}))
}

/// An empty body or `{"name": ...}`.
#[requires_scope("write:products")]
async fn create_product(claims: Claims, body: Bytes) -> (StatusCode, Json<Value>) {
    match NewProduct::from_body(&body) {
        Ok(product) => {
            let name = product.map(|product| product.name);
            let body = json!({"message": "Product created.", "name": name, "by": claims.subject()});
            (StatusCode::CREATED, Json(body))
        }
        Err(_) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_body", "error_description": INVALID_BODY})),
        ),
    }
}

#[requires_scope("read:orders")]
async fn list_orders() -> Json<Value> {
    Json(json!({"orders": [{"id": "o-1001", "total": 42.5}]}))
}

#[requires_scope("delete:analytics")]
async fn delete_analytics() -> Json<Value> {
    Json(json!({"message": "Analytics deleted."}))
}

#[requires_scope("read:orders", "read:analytics")]
async fn reports() -> Json<Value> {
    Json(json!({"reports": [{"id": "r-7", "orders": 128}]}))
}

/// Serves `app(verifier)` on `listener` until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, verifier: Verifier) -> std::io::Result<()> {
    axum::serve(listener, app(verifier)).await
}

/// Binds `127.0.0.1:port`.
pub async fn bind(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
