//! The scopegate route contract (see the repository's DESIGN) as an axum app.
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

use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use scopegate_tower::{AuthLayer, Claims, ConfigError, Verifier, VerifierConfig, requires_scope};
use serde::Deserialize;
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

/// A product to create.
#[derive(Debug, Deserialize)]
pub struct NewProduct {
    /// Its name.
    pub name: String,
}

#[requires_scope("write:products")]
async fn create_product(
    claims: Claims,
    Json(product): Json<NewProduct>,
) -> (StatusCode, Json<Value>) {
    let body = json!({"message": "Product created.", "name": product.name, "by": claims.subject()});
    (StatusCode::CREATED, Json(body))
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

/// Settings read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SCOPEGATE_ISSUER`: the issuer exactly as in tokens' `iss` (Auth0: `https://<tenant>/`).
    pub issuer: String,
    /// `SCOPEGATE_AUDIENCE`: the API identifier.
    pub audience: String,
    /// `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
}

/// Why the environment does not configure the example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// `SCOPEGATE_ISSUER` is not set.
    MissingIssuer,
    /// `SCOPEGATE_AUDIENCE` is not set.
    MissingAudience,
    /// `PORT` is not a port number.
    InvalidPort,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingIssuer => {
                "SCOPEGATE_ISSUER is not set. Set it to your issuer exactly as tokens name it, e.g.\n  \
                 SCOPEGATE_ISSUER=https://your-tenant.us.auth0.com/ SCOPEGATE_AUDIENCE=https://api.example.com \
                 cargo run -p example-axum-products\n\
                 (an embedded local issuer for running without one is not available yet)"
            }
            Self::MissingAudience => "SCOPEGATE_AUDIENCE is not set: set it to your API identifier (the token audience).",
            Self::InvalidPort => "PORT must be a port number (0 picks a free one).",
        })
    }
}

impl Config {
    /// Reads `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE` and `PORT` through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigProblem> {
        let issuer = var("SCOPEGATE_ISSUER")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigProblem::MissingIssuer)?;
        let audience = var("SCOPEGATE_AUDIENCE")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigProblem::MissingAudience)?;
        let port = match var("PORT") {
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| ConfigProblem::InvalidPort)?,
            None => 3000,
        };
        Ok(Self {
            issuer,
            audience,
            port,
        })
    }

    /// A verifier that discovers the issuer's keys.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        VerifierConfig::new(self.issuer.clone(), self.audience.clone()).build()
    }
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
