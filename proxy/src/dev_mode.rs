//! The binary's dev mode (feature `dev-issuer`): without an `[issuer]` section, the
//! built-in dev issuer runs in-process and the proxy prints tokens to try.

use scopegate_core::{Verifier, VerifierConfig};
use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
use scopegate_proxy::ProxyConfig;

/// The built-in tenant's retail API and every permission it has.
const RETAIL: &str = "https://retail.example/api";
const ALL_RETAIL: &str = "read:orders read:products write:products read:analytics delete:analytics";

/// Starts the built-in dev issuer and a verifier for its tokens (with `[dpop]` applied).
pub(crate) async fn start(
    config: &ProxyConfig,
) -> Result<(DevIssuer, Verifier), Box<dyn std::error::Error>> {
    let issuer = DevIssuer::start(Tenant::built_in()).await?;
    let verifier = config.with_dpop(dev_verifier(&issuer))?.build()?;
    Ok((issuer, verifier))
}

/// Accepts the dev issuer's tokens for each of its APIs.
fn dev_verifier(issuer: &DevIssuer) -> VerifierConfig {
    let mut apis = issuer
        .tenant()
        .apis
        .iter()
        .map(|api| api.identifier.clone());
    let first = apis.next().unwrap_or_default();
    apis.fold(
        VerifierConfig::new(issuer.issuer(), first),
        VerifierConfig::audience,
    )
}

/// The dev issuer's address and tokens to try.
#[allow(clippy::print_stdout, reason = "the binary's quick start")]
pub(crate) fn announce(addr: std::net::SocketAddr, issuer: &DevIssuer) {
    println!(
        "No [issuer] configured: running the built-in dev issuer at {}",
        issuer.issuer()
    );
    let logins = [
        (
            "reporting-job",
            None,
            "read:orders read:analytics (machine)",
        ),
        ("admin-portal", Some("sam"), "Support Agent: read:orders"),
        ("admin-portal", Some("ivy"), "Inventory Manager: products"),
    ];
    for (client_id, username, who) in logins {
        let scope = username.map(|_| ALL_RETAIL);
        let request = TokenRequest::built_in(client_id, username, RETAIL, scope);
        if let Ok(token) = issuer.issue(&request) {
            println!(
                "\n# {} — {who}; token scope \"{}\"\ncurl -i -H 'Authorization: Bearer {}' http://{addr}/",
                username.unwrap_or(client_id),
                token.scope,
                token.access_token
            );
        }
    }
}
