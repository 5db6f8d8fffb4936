//! The HTTP face of the issuer: discovery, JWKS and `/oauth/token`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scopegate_core::test_util::TestIssuer;
use serde_json::json;

use crate::mint::{Minter, TokenError, TokenRequest};
use crate::tenant::Tenant;

/// A running dev issuer. The server stops with the tokio runtime it was started on.
#[derive(Debug, Clone)]
pub struct DevIssuer {
    addr: SocketAddr,
    minter: Arc<Minter>,
}

impl DevIssuer {
    /// Starts serving `tenant` on 127.0.0.1 at a free port, with a fresh RSA key.
    pub async fn start(tenant: Tenant) -> std::io::Result<Self> {
        Self::start_on(tenant, SocketAddr::from(([127, 0, 0, 1], 0)), None).await
    }

    /// Starts serving on `addr`, signing with `key` (a fresh RSA key if `None`). The
    /// issuer is `http://<addr>/`, with a trailing slash as Auth0 writes it.
    pub async fn start_on(
        tenant: Tenant,
        addr: SocketAddr,
        key: Option<TestIssuer>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let signer = key
            .unwrap_or_default()
            .with_issuer(format!("http://{addr}/"));
        let minter = Arc::new(Minter::new(tenant, signer));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/oauth/token", post(token))
            .with_state(Arc::clone(&minter));
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("dev issuer stopped: {error}");
            }
        });
        Ok(Self { addr, minter })
    }

    /// The issuer URL, `http://127.0.0.1:PORT/`.
    pub fn issuer(&self) -> &str {
        self.minter.signer().issuer()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The tenant served.
    pub fn tenant(&self) -> &Tenant {
        self.minter.tenant()
    }

    /// Mints a token in-process, exactly as `POST /oauth/token` would.
    pub fn issue(&self, request: &TokenRequest) -> Result<crate::mint::TokenResponse, TokenError> {
        self.minter.issue(request)
    }
}

async fn discovery(State(minter): State<Arc<Minter>>) -> Json<serde_json::Value> {
    let issuer = minter.signer().issuer();
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}oauth/token"),
        "grant_types_supported": ["client_credentials", "password"],
        "response_types_supported": ["token"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "dpop_signing_alg_values_supported": ["ES256", "ES384", "PS256", "RS256", "EdDSA"],
    }))
}

async fn jwks(State(minter): State<Arc<Minter>>) -> Json<serde_json::Value> {
    Json(minter.signer().jwks())
}

async fn token(State(minter): State<Arc<Minter>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let request = if content_type.starts_with("application/json") {
        serde_json::from_slice::<TokenRequest>(&body).ok()
    } else {
        form_request(&body)
    };
    let proofs: Vec<&str> = headers
        .get_all("dpop")
        .iter()
        .map(|value| value.to_str().unwrap_or_default())
        .collect();
    let result = match (request, proofs.as_slice()) {
        (Some(_), [_, _, ..]) => Err(TokenError {
            status: 400,
            error: "invalid_dpop_proof",
            description: "Send one DPoP proof".into(),
        }),
        (Some(request), proofs) => minter.issue_with_proof(&request, proofs.first().copied()),
        (None, _) => Err(TokenError {
            status: 400,
            error: "invalid_request",
            description: "The body must be a form or JSON object of token parameters".into(),
        }),
    };
    match result {
        Ok(response) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(response),
        )
            .into_response(),
        Err(error) => {
            let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                Json(json!({"error": error.error, "error_description": error.description})),
            )
                .into_response()
        }
    }
}

/// Reads an `application/x-www-form-urlencoded` body; a repeated parameter is malformed.
fn form_request(body: &[u8]) -> Option<TokenRequest> {
    let mut request = TokenRequest::default();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match &*name {
            "grant_type" => &mut request.grant_type,
            "client_id" => &mut request.client_id,
            "client_secret" => &mut request.client_secret,
            "audience" => &mut request.audience,
            "scope" => &mut request.scope,
            "username" => &mut request.username,
            "password" => &mut request.password,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return None;
        }
    }
    Some(request)
}
