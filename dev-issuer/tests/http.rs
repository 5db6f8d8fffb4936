//! The dev issuer over HTTP on 127.0.0.1: every scenario of the built-in tenant gets the
//! tokens Auth0 would issue, errors are OAuth errors, and every token verifies with
//! scopegate-core through discovery.

use scopegate_core::VerifierConfig;
use scopegate_dev_issuer::{DevIssuer, Tenant, TokenResponse};
use serde_json::{Value, json};

const RETAIL: &str = "https://retail.example/api";
const ANALYTICS: &str = "https://analytics.retail.example/api";
const HEALTH: &str = "https://health.example/api";

async fn post_form(issuer: &DevIssuer, params: &[(&str, &str)]) -> (u16, Value) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = reqwest::Client::new()
        .post(format!("{}oauth/token", issuer.issuer()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("response");
    (
        response.status().as_u16(),
        response.json().await.expect("JSON"),
    )
}

fn user(
    app: &str,
    secret: &str,
    audience: &str,
    username: &str,
    scope: &str,
) -> Vec<(String, String)> {
    [
        ("grant_type", "password"),
        ("client_id", app),
        ("client_secret", secret),
        ("audience", audience),
        ("username", username),
        ("password", &format!("{username}-pw")),
        ("scope", scope),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn token_for(issuer: &DevIssuer, params: Vec<(String, String)>) -> (u16, Value) {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_form(issuer, &pairs).await
}

#[tokio::test]
async fn scenarios_get_auth0_scopes_and_tokens_verify_through_discovery() {
    let issuer = DevIssuer::start(Tenant::built_in()).await.expect("start");
    let everything = "read:orders read:products write:products read:analytics delete:analytics read:patient_history write:patient_history";
    let cases = [
        // (params, audience, expected scope, why)
        (
            user(
                "admin-portal",
                "admin-portal-secret",
                RETAIL,
                "sam",
                everything,
            ),
            RETAIL,
            "read:orders",
            "RBAC on, allow: the role's permissions",
        ),
        (
            user(
                "admin-portal",
                "admin-portal-secret",
                RETAIL,
                "ivy",
                everything,
            ),
            RETAIL,
            "read:products write:products",
            "RBAC on, allow",
        ),
        (
            user(
                "admin-portal",
                "admin-portal-secret",
                RETAIL,
                "nora",
                everything,
            ),
            RETAIL,
            "",
            "RBAC on and no role: no scopes",
        ),
        (
            user("admin-portal", "admin-portal-secret", RETAIL, "ivy", ""),
            RETAIL,
            "",
            "nothing requested, nothing granted",
        ),
        (
            user(
                "partner-analytics",
                "partner-analytics-secret",
                ANALYTICS,
                "ada",
                everything,
            ),
            ANALYTICS,
            "read:analytics",
            "RBAC off, client grant: the grant, roles ignored",
        ),
        (
            user(
                "health-mobile",
                "health-mobile-secret",
                HEALTH,
                "doc",
                everything,
            ),
            HEALTH,
            "read:patient_history",
            "RBAC on + client grant: role ∩ grant",
        ),
        (
            user(
                "admin-portal",
                "admin-portal-secret",
                HEALTH,
                "doc",
                everything,
            ),
            HEALTH,
            "",
            "allow via client grant, the app has no user grant: a token without scopes",
        ),
    ];
    for (params, audience, expected, why) in cases {
        let (status, body) = token_for(&issuer, params).await;
        assert_eq!(status, 200, "{why}: {body}");
        let response: TokenResponse = serde_json::from_value(body).expect("token response");
        assert_eq!(
            (
                response.scope.as_str(),
                response.token_type.as_str(),
                response.expires_in
            ),
            (expected, "Bearer", 3600),
            "{why}"
        );
        let verifier = VerifierConfig::new(issuer.issuer(), audience)
            .build()
            .expect("verifier");
        let verified = verifier
            .verify(&response.access_token)
            .await
            .expect("verifies through discovery");
        assert_eq!(verified.scopes().to_string(), expected, "{why}");
        assert_eq!(verified.grant_type(), Some("password"));
        assert!(verified.subject().is_some_and(|s| s.starts_with("auth0|")));
    }

    // "Add Permissions in the Access Token" on the retail API: the role's permissions.
    let (_, body) = token_for(
        &issuer,
        user(
            "admin-portal",
            "admin-portal-secret",
            RETAIL,
            "ivy",
            "read:products",
        ),
    )
    .await;
    let verifier = VerifierConfig::new(issuer.issuer(), RETAIL)
        .build()
        .expect("verifier");
    let verified = verifier
        .verify(body["access_token"].as_str().expect("token"))
        .await
        .expect("valid");
    assert_eq!(
        verified.claim("permissions"),
        Some(&json!(["read:products", "write:products"]))
    );

    // A machine, with JSON: its whole grant when nothing is requested.
    let response = reqwest::Client::new()
        .post(format!("{}oauth/token", issuer.issuer()))
        .json(&json!({"grant_type": "client_credentials", "client_id": "reporting-job", "client_secret": "reporting-job-secret", "audience": RETAIL}))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["scope"], "read:orders read:analytics");
    let verified = verifier
        .verify(body["access_token"].as_str().expect("token"))
        .await
        .expect("valid");
    assert!(verified.is_machine());
    assert_eq!(
        (verified.subject(), verified.client_id()),
        (Some("reporting-job@clients"), Some("reporting-job"))
    );
}

/// (form parameters, expected status, expected OAuth error).
type RefusalCase = (Vec<(&'static str, &'static str)>, u16, &'static str);

#[tokio::test]
async fn refusals_are_oauth_errors() {
    let issuer = DevIssuer::start(Tenant::built_in()).await.expect("start");
    let machine = |client: &'static str, secret: &'static str, audience: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("audience", audience),
        ]
    };
    let cases: Vec<RefusalCase> = vec![
        (
            machine("reporting-job", "wrong", RETAIL),
            401,
            "invalid_client",
        ),
        (machine("nobody", "x", RETAIL), 401, "invalid_client"),
        (
            machine(
                "reporting-job",
                "reporting-job-secret",
                "https://unknown.example/",
            ),
            403,
            "access_denied",
        ),
        (
            machine("reporting-job", "reporting-job-secret", HEALTH),
            403,
            "access_denied",
        ),
        (
            machine("admin-portal", "admin-portal-secret", RETAIL),
            403,
            "access_denied",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", "admin-portal"),
                ("client_secret", "admin-portal-secret"),
                ("audience", RETAIL),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "reporting-job"),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "admin-portal"),
                ("client_secret", "admin-portal-secret"),
                ("audience", RETAIL),
                ("username", "sam"),
                ("password", "nope"),
            ],
            403,
            "invalid_grant",
        ),
        // Its grant for the analytics API serves users only, not client credentials.
        (
            machine("partner-analytics", "partner-analytics-secret", ANALYTICS),
            403,
            "access_denied",
        ),
    ];
    for (params, status, error) in cases {
        let (got, body) = post_form(&issuer, &params).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{params:?}: {body}"
        );
        assert!(body["error_description"].is_string());
    }
    let response = reqwest::Client::new()
        .post(format!("{}oauth/token", issuer.issuer()))
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn a_deny_policy_refuses_users_and_discovery_serves_public_keys_only() {
    let tenant = Tenant::from_toml(
        "[[api]]\nidentifier = \"https://d/\"\nrbac = true\nuser_access_policy = \"deny\"\npermissions = [\"read:d\"]\n\
         [[user]]\nusername = \"u\"\npassword = \"u-pw\"\n\
         [[application]]\nname = \"a\"\nclient_id = \"a\"\nclient_secret = \"s\"\n",
    )
    .expect("tenant");
    let issuer = DevIssuer::start(tenant).await.expect("start");
    let (status, body) = token_for(&issuer, user("a", "s", "https://d/", "u", "read:d")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("access_denied"))
    );

    let metadata: Value = reqwest::get(format!(
        "{}.well-known/openid-configuration",
        issuer.issuer()
    ))
    .await
    .expect("get")
    .json()
    .await
    .expect("json");
    assert_eq!(metadata["issuer"], issuer.issuer());
    let jwks: Value = reqwest::get(metadata["jwks_uri"].as_str().expect("uri"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            key.get(private).is_none(),
            "private member {private} served"
        );
    }
}
