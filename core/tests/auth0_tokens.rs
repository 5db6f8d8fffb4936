//! Tokens shaped exactly like the access tokens an Auth0 tenant issues verify with the
//! Auth0 preset.

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{ErrorKind, Requirement, ScopeSource, Verifier};
use serde_json::json;

const DOMAIN: &str = "dev-retail.us.auth0.com";
const ISSUER: &str = "https://dev-retail.us.auth0.com/";
const API: &str = "https://retail.example/api";

fn tenant() -> TestIssuer {
    // Auth0 signs with RS256 and a kid derived from the certificate.
    TestIssuer::new()
        .with_issuer(ISSUER)
        .with_audience(API)
        .with_kid("hXbHwWQ3dV5xU1cS6nP3r")
}

/// A user token from the authorization-code flow of a SPA, with RBAC and
/// "Add Permissions in the Access Token" on: exactly Auth0's claim set and types.
fn user_token(tenant: &TestIssuer) -> String {
    let now = tenant.token().claims()["iat"].as_u64().expect("iat");
    tenant
        .token()
        .without_claim("sub")
        .claim("iss", ISSUER)
        .claim("sub", "auth0|6543a1f2b3c4d5e6f7a8b9c0")
        .claim(
            "aud",
            json!([API, "https://dev-retail.us.auth0.com/userinfo"]),
        )
        .claim("iat", now)
        .claim("exp", now + 86400)
        .claim("scope", "openid profile email read:orders")
        .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
        .claim(
            "permissions",
            json!(["read:orders", "read:products", "write:products"]),
        )
        .claim("https://retail.example/roles", json!(["Inventory Manager"]))
        .sign()
}

/// A machine token from the client-credentials grant.
fn machine_token(tenant: &TestIssuer) -> String {
    tenant
        .token()
        .subject("Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m@clients")
        .audience(API)
        .claim("scope", "read:analytics")
        .claim("gty", "client-credentials")
        .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
        .sign()
}

#[tokio::test]
async fn auth0_user_token_verifies_with_the_preset() {
    let tenant = tenant();
    let verifier = Verifier::auth0(DOMAIN, API)
        .keys(tenant.key_set())
        .build()
        .expect("config");
    let verified = verifier
        .verify(&user_token(&tenant))
        .await
        .expect("Auth0 user token verifies");
    assert_eq!(verified.issuer(), ISSUER);
    assert_eq!(verified.subject(), Some("auth0|6543a1f2b3c4d5e6f7a8b9c0"));
    assert_eq!(
        verified.client_id(),
        Some("Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
    );
    assert!(!verified.is_machine());
    // The default source is `scope`, as in Auth0's own middleware.
    assert_eq!(
        verified.scopes().to_string(),
        "openid profile email read:orders"
    );
    assert!(
        Requirement::all(["read:orders"])
            .expect("req")
            .check(&verified)
            .is_ok()
    );
    assert_eq!(
        Requirement::all(["write:products"])
            .expect("req")
            .check(&verified)
            .map_err(|e| e.kind()),
        Err(ErrorKind::InsufficientScope)
    );
    assert_eq!(
        verified.claim("https://retail.example/roles"),
        Some(&json!(["Inventory Manager"]))
    );
}

#[tokio::test]
async fn auth0_permissions_can_be_the_scope_source() {
    let tenant = tenant();
    let verifier = Verifier::auth0(DOMAIN, API)
        .scope_source(ScopeSource::union(
            ScopeSource::Scope,
            ScopeSource::Permissions,
        ))
        .keys(tenant.key_set())
        .build()
        .expect("config");
    let verified = verifier.verify(&user_token(&tenant)).await.expect("valid");
    assert!(
        Requirement::all(["write:products", "read:orders"])
            .expect("req")
            .check(&verified)
            .is_ok()
    );
}

#[tokio::test]
async fn auth0_machine_token_verifies_and_is_detected() {
    let tenant = tenant();
    let verifier = Verifier::auth0(&format!("https://{DOMAIN}"), API)
        .keys(tenant.key_set())
        .build()
        .expect("config");
    let verified = verifier
        .verify(&machine_token(&tenant))
        .await
        .expect("Auth0 machine token verifies");
    assert!(verified.is_machine());
    assert_eq!(verified.grant_type(), Some("client-credentials"));
    assert!(verified.has_scope("read:analytics"));
}

/// Verifies `token` with the Auth0 preset for `domain` and `audience`.
async fn verify_with(
    tenant: &TestIssuer,
    domain: &str,
    audience: &str,
    token: &str,
) -> Result<(), ErrorKind> {
    let verifier = Verifier::auth0(domain, audience)
        .keys(tenant.key_set())
        .build()
        .expect("config");
    verifier.verify(token).await.map(drop).map_err(|e| e.kind())
}

#[tokio::test]
async fn auth0_preset_refuses_other_tenants_and_apis() {
    let tenant = tenant();
    let token = user_token(&tenant);
    assert_eq!(verify_with(&tenant, DOMAIN, API, &token).await, Ok(()));
    assert_eq!(
        verify_with(&tenant, DOMAIN, "https://other.example/api", &token).await,
        Err(ErrorKind::InvalidAudience)
    );
    assert_eq!(
        verify_with(&tenant, "prod-retail.us.auth0.com", API, &token).await,
        Err(ErrorKind::InvalidIssuer)
    );
    // An ID token (audience = the client id) is not an access token for the API.
    let id_token = tenant
        .token()
        .audience("Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
        .claim("nonce", "n")
        .sign();
    assert_eq!(
        verify_with(&tenant, DOMAIN, API, &id_token).await,
        Err(ErrorKind::InvalidAudience)
    );
}
