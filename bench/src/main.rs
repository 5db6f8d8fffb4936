//! Servers for the load benchmark (see `run.sh` and `../BENCHMARKS.md`). The scopegate
//! side is not here: `run.sh` runs the shipped `example-axum-products` binary.
//!
//! * `prepare DIR ISSUER_PORT`: a signing key, one token, and a pool of distinct tokens,
//!   all issued by `http://127.0.0.1:ISSUER_PORT/`.
//! * `issuer DIR ISSUER_PORT`: that issuer's OIDC discovery document and JWKS, which the
//!   example discovers its keys from and jwt-authorizer reads.
//! * `serve KIND PORT ISSUER_PORT`: `GET /api/orders` behind nothing (`bare`) or
//!   behind jwt-authorizer configured like the example (`jwt-authorizer`).

use std::path::Path;

use scopegate_core::test_util::TestIssuer;
use serde_json::json;

const AUDIENCE: &str = "https://retail.example/api";
const POOL: usize = 2000;

fn issuer_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = |at: usize| -> u16 { args[at].parse().expect("a port number") };
    match args.get(1).map(String::as_str) {
        Some("prepare") => prepare(Path::new(&args[2]), port(3)),
        Some("issuer") => serve_issuer(Path::new(&args[2]), port(3)).await,
        Some("serve") => serve(&args[2], port(3), port(4)).await,
        _ => eprintln!(
            "usage: scopegate-bench prepare DIR ISSUER_PORT | issuer DIR ISSUER_PORT | serve KIND PORT ISSUER_PORT"
        ),
    }
}

fn issuer(dir: &Path, port: u16) -> TestIssuer {
    let pem = std::fs::read_to_string(dir.join("key.pem")).expect("key.pem");
    TestIssuer::from_rsa_private_key_pem(&pem)
        .expect("key")
        .with_issuer(issuer_url(port))
        .with_audience(AUDIENCE)
}

fn prepare(dir: &Path, issuer_port: u16) {
    std::fs::create_dir_all(dir).expect("dir");
    let key = TestIssuer::new();
    std::fs::write(dir.join("key.pem"), key.rsa_private_key_pem().expect("pem")).expect("write");
    let issuer = issuer(dir, issuer_port);
    let userinfo = format!("{}userinfo", issuer_url(issuer_port));
    // Auth0-sized tokens: the same claims an Auth0 user token carries.
    let token = |i: usize| {
        issuer
            .token()
            .subject(&format!("auth0|{i:024x}"))
            .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
            .audiences([AUDIENCE, userinfo.as_str()])
            .scope("openid profile email read:orders read:products")
            .expires_in(24 * 3600)
            .sign()
    };
    std::fs::write(dir.join("same.txt"), token(0) + "\n").expect("write");
    let pool: Vec<String> = (1..=POOL).map(token).collect();
    std::fs::write(dir.join("pool.txt"), pool.join("\n") + "\n").expect("write");
}

/// OIDC discovery and the JWKS, as an issuer serves them.
async fn serve_issuer(dir: &Path, port: u16) {
    let jwks = issuer(dir, port).jwks();
    let url = issuer_url(port);
    let metadata = json!({"issuer": url, "jwks_uri": format!("{url}.well-known/jwks.json")});
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { axum::Json(metadata) }),
        )
        .route(
            "/.well-known/jwks.json",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind issuer");
    axum::serve(listener, app).await.expect("issuer");
}

async fn serve(kind: &str, port: u16, issuer_port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    match kind {
        "bare" => {
            let app = axum::Router::new().route("/api/orders", axum::routing::get(orders));
            axum::serve(listener, app).await.expect("serve");
        }
        "jwt-authorizer" => jwt_authorizer(listener, issuer_port).await,
        other => panic!("unknown kind {other}"),
    }
}

/// What the example answers on the same route.
async fn orders() -> axum::Json<serde_json::Value> {
    axum::Json(json!({"orders": [{"id": "o-1001", "total": 42.5}]}))
}

#[derive(Clone, serde::Deserialize)]
struct ScopeClaims {
    scope: String,
}

/// jwt-authorizer with the same rules: RS256 from the issuer's JWKS, iss, aud,
/// `read:orders`.
async fn jwt_authorizer(listener: tokio::net::TcpListener, issuer_port: u16) {
    use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, Validation};
    let issuer = issuer_url(issuer_port);
    let authorizer: Authorizer<ScopeClaims> =
        JwtAuthorizer::from_jwks_url(&format!("{issuer}.well-known/jwks.json"))
            .validation(Validation::new().iss(&[issuer.as_str()]).aud(&[AUDIENCE]))
            .check(|claims: &ScopeClaims| claims.scope.split(' ').any(|s| s == "read:orders"))
            .build()
            .await
            .expect("authorizer");
    let app = axum07::Router::new()
        .route(
            "/api/orders",
            axum07::routing::get(|| async {
                axum07::Json(json!({"orders": [{"id": "o-1001", "total": 42.5}]}))
            }),
        )
        .layer(authorizer.into_layer());
    axum07::serve(listener, app).await.expect("serve");
}
