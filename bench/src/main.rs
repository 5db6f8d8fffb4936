//! Servers for the load benchmark (see `run.sh` and `../BENCHMARKS.md`).
//!
//! * `prepare DIR`: a signing key, one token, and a pool of distinct tokens.
//! * `serve KIND PORT DIR`: `GET /api/orders` needing `read:orders`, behind nothing
//!   (`bare`), the scopegate axum example (`scopegate`, `scopegate-nocache`), or
//!   jwt-authorizer configured alike (`jwt-authorizer`). Keys come from a JWKS served on
//!   `PORT + 1` over loopback.

use std::net::SocketAddr;
use std::path::Path;

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{RemoteKeys, VerifierConfig};

const ISSUER: &str = "https://bench.scopegate.test/";
const AUDIENCE: &str = "https://retail.example/api";
const POOL: usize = 2000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("prepare") => prepare(Path::new(&args[2])),
        Some("serve") => serve(&args[2], args[3].parse().expect("port"), Path::new(&args[4])).await,
        _ => eprintln!("usage: scopegate-bench prepare DIR | serve KIND PORT DIR"),
    }
}

fn issuer(dir: &Path) -> TestIssuer {
    let pem = std::fs::read_to_string(dir.join("key.pem")).expect("key.pem");
    TestIssuer::from_rsa_private_key_pem(&pem).expect("key").with_issuer(ISSUER).with_audience(AUDIENCE)
}

fn prepare(dir: &Path) {
    std::fs::create_dir_all(dir).expect("dir");
    let key = TestIssuer::new();
    std::fs::write(dir.join("key.pem"), key.rsa_private_key_pem().expect("pem")).expect("write");
    let issuer = issuer(dir);
    // Auth0-sized tokens: the same claims an Auth0 user token carries.
    let token = |i: usize| {
        issuer
            .token()
            .subject(&format!("auth0|{i:024x}"))
            .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
            .audiences([AUDIENCE, "https://bench.scopegate.test/userinfo"])
            .scope("openid profile email read:orders read:products")
            .expires_in(24 * 3600)
            .sign()
    };
    std::fs::write(dir.join("same.txt"), token(0) + "\n").expect("write");
    let pool: Vec<String> = (1..=POOL).map(token).collect();
    std::fs::write(dir.join("pool.txt"), pool.join("\n") + "\n").expect("write");
}

async fn serve(kind: &str, port: u16, dir: &Path) {
    let jwks = issuer(dir).jwks();
    let jwks_addr = SocketAddr::from(([127, 0, 0, 1], port + 1));
    let jwks_app = axum::Router::new().route("/jwks.json", axum::routing::get(move || async move { axum::Json(jwks) }));
    let jwks_listener = tokio::net::TcpListener::bind(jwks_addr).await.expect("bind jwks");
    tokio::spawn(async move { axum::serve(jwks_listener, jwks_app).await.expect("jwks") });
    let jwks_url = format!("http://{jwks_addr}/jwks.json");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");

    match kind {
        "bare" => {
            let app = axum::Router::new().route("/api/orders", axum::routing::get(orders));
            axum::serve(listener, app).await.expect("serve");
        }
        "scopegate" | "scopegate-nocache" => {
            let cache = if kind == "scopegate" { VerifierConfig::DEFAULT_TOKEN_CACHE } else { 0 };
            let keys = RemoteKeys::jwks_url(jwks_url).build().expect("keys");
            let verifier = VerifierConfig::new(ISSUER, AUDIENCE).keys(keys).token_cache(cache).build().expect("verifier");
            verifier.refresh_keys().await.expect("keys");
            axum::serve(listener, example_axum_products::app(verifier)).await.expect("serve");
        }
        "jwt-authorizer" => jwt_authorizer(listener, &jwks_url).await,
        other => panic!("unknown kind {other}"),
    }
}

/// What the example answers on the same route.
async fn orders() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"orders": [{"id": "o-1001", "total": 42.5}]}))
}

#[derive(Clone, serde::Deserialize)]
struct ScopeClaims {
    scope: String,
}

/// jwt-authorizer with the same rules: RS256 from the JWKS, iss, aud, `read:orders`.
async fn jwt_authorizer(listener: tokio::net::TcpListener, jwks_url: &str) {
    use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, Validation};
    let authorizer: Authorizer<ScopeClaims> = JwtAuthorizer::from_jwks_url(jwks_url)
        .validation(Validation::new().iss(&[ISSUER]).aud(&[AUDIENCE]))
        .check(|claims: &ScopeClaims| claims.scope.split(' ').any(|s| s == "read:orders"))
        .build()
        .await
        .expect("authorizer");
    let app = axum07::Router::new()
        .route(
            "/api/orders",
            axum07::routing::get(|| async { axum07::Json(serde_json::json!({"orders": [{"id": "o-1001", "total": 42.5}]})) }),
        )
        .layer(authorizer.into_layer());
    axum07::serve(listener, app).await.expect("serve");
}
