//! The standard gRPC health service (tonic-health) behind scopegate, with a rule per
//! method:
//!
//! | method | rule |
//! |---|---|
//! | `/grpc.health.v1.Health/Check` | no token needed (load balancers, probes) |
//! | `/grpc.health.v1.Health/Watch` | `read:analytics` |
//! | any other method | refused: `UNAUTHENTICATED` without a token, `PERMISSION_DENIED` with one |

use std::fmt::Write;
use std::net::SocketAddr;

pub use example_common::Setup;
use scopegate_dev_issuer::{DevIssuer, TokenRequest};
use scopegate_tower::{GrpcAuthLayer, MethodRules, Requirement, Verifier};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

/// The API whose scopes the rules name (the built-in tenant's retail API).
const RETAIL: &str = "https://retail.example/api";

/// The method rules of the table above.
pub fn rules() -> MethodRules {
    let analytics = Requirement::all(["read:analytics"]).expect("a verb:resource literal");
    MethodRules::new()
        .public("/grpc.health.v1.Health/Check")
        .and_then(|rules| rules.require("/grpc.health.v1.Health/Watch", analytics))
        .expect("well-formed method paths")
}

/// Binds `127.0.0.1:port` (0 picks a free port).
pub async fn bind(port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves the health service (reporting `SERVING`) on `listener` until the process ends.
pub async fn serve(
    listener: TcpListener,
    verifier: Verifier,
) -> Result<(), tonic::transport::Error> {
    let (_reporter, health) = tonic_health::server::health_reporter();
    Server::builder()
        .layer(GrpcAuthLayer::new(verifier, rules()))
        .add_service(health)
        .serve_with_incoming(TcpListenerStream::new(listener))
        .await
}

/// The quick start for a server at `addr`, with tokens from the embedded `issuer`:
/// `grpcurl` commands, each with the status it gets.
pub fn quickstart(issuer: &DevIssuer, addr: SocketAddr) -> String {
    let mut out = format!(
        "No SCOPEGATE_ISSUER set: running the built-in dev issuer at {}\n",
        issuer.issuer()
    );
    let health = "grpc.health.v1.Health";
    let _ = writeln!(
        out,
        "grpcurl -plaintext {addr} {health}/Check  # expect SERVING: Check needs no token"
    );
    let personas = [
        (
            "reporting-job",
            None,
            "a stream of SERVING: the grant includes read:analytics",
        ),
        (
            "admin-portal",
            Some("sam"),
            "PermissionDenied: the Support Agent role lacks read:analytics",
        ),
    ];
    for (client_id, username, expect) in personas {
        let scope = username.map(|_| "read:orders read:analytics");
        let request = TokenRequest::built_in(client_id, username, RETAIL, scope);
        match issuer.issue(&request) {
            Ok(token) => {
                let _ = writeln!(
                    out,
                    "grpcurl -plaintext -H 'authorization: Bearer {}' {addr} {health}/Watch  # expect {expect} (token of {}, scope \"{}\")",
                    token.access_token,
                    username.unwrap_or(client_id),
                    token.scope
                );
            }
            Err(error) => {
                let _ = writeln!(out, "# {client_id}: no token ({error})");
            }
        }
    }
    let _ = writeln!(
        out,
        "grpcurl -plaintext {addr} {health}/Watch  # expect Unauthenticated: Watch needs a token"
    );
    out
}
