//! The axum example answers the whole route contract: every route × (no token, malformed
//! header, expired, wrong audience, bad signature, missing scope, right scope), with a
//! real server on 127.0.0.1 whose keys are discovered from a real OIDC issuer.

use std::net::SocketAddr;

use example_axum_products::{Config, ConfigProblem, bind, serve};
use scopegate_core::test_util::TestIssuer;
use scopegate_tests::contract::{Expected, ROUTES, Route};
use scopegate_tests::{Idp, Metadata};
use serde_json::Value;

const AUDIENCE: &str = "https://retail.example/api";

#[derive(Debug, Clone, Copy)]
enum Situation {
    NoToken,
    MalformedHeader,
    Expired,
    WrongAudience,
    BadSignature,
    MissingScope,
    RightScope,
}

const SITUATIONS: [Situation; 7] = [
    Situation::NoToken,
    Situation::MalformedHeader,
    Situation::Expired,
    Situation::WrongAudience,
    Situation::BadSignature,
    Situation::MissingScope,
    Situation::RightScope,
];

fn authorization(
    issuer: &TestIssuer,
    impostor: &TestIssuer,
    route: &Route,
    situation: Situation,
) -> Option<String> {
    let scopes = route.scopes.unwrap_or(&[]).join(" ");
    let token = match situation {
        Situation::NoToken => return None,
        Situation::MalformedHeader => return Some("Bearer two words".into()),
        Situation::Expired => issuer.token().scope(&scopes).expired().sign(),
        Situation::WrongAudience => issuer
            .token()
            .scope(&scopes)
            .audience("https://other.example/api")
            .sign(),
        Situation::BadSignature => impostor.token().scope(&scopes).sign(),
        Situation::MissingScope => issuer.token().scope("openid profile").sign(),
        Situation::RightScope => issuer.token().scope(&scopes).sign(),
    };
    Some(format!("Bearer {token}"))
}

fn expected(route: &Route, situation: Situation) -> Expected {
    let Some(scopes) = route.scopes else {
        return Expected::success(route);
    };
    match situation {
        Situation::NoToken => Expected::rejection(401, None, "", None),
        Situation::MalformedHeader => Expected::rejection(
            400,
            Some("invalid_request"),
            "Malformed bearer credentials",
            None,
        ),
        Situation::Expired => {
            Expected::rejection(401, Some("invalid_token"), "The access token expired", None)
        }
        Situation::WrongAudience => Expected::rejection(
            401,
            Some("invalid_token"),
            "The access token audience is not accepted",
            None,
        ),
        Situation::BadSignature => Expected::rejection(
            401,
            Some("invalid_token"),
            "The access token signature is invalid",
            None,
        ),
        Situation::MissingScope if scopes.is_empty() => Expected::success(route),
        Situation::MissingScope => Expected::rejection(
            403,
            Some("insufficient_scope"),
            "The access token lacks the required scope",
            Some(&scopes.join(" ")),
        ),
        Situation::RightScope => Expected::success(route),
    }
}

async fn start_example(idp: &Idp) -> SocketAddr {
    let config = Config {
        issuer: idp.issuer(),
        audience: AUDIENCE.into(),
        port: 0,
    };
    let verifier = config.verifier().expect("verifier");
    let (listener, addr) = bind(config.port).await.expect("bind");
    tokio::spawn(serve(listener, verifier));
    addr
}

#[tokio::test]
async fn the_axum_example_answers_the_route_contract() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let impostor = TestIssuer::new()
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let addr = start_example(&idp).await;
    let client = reqwest::Client::new();

    let mut checked = 0;
    for route in &ROUTES {
        for situation in SITUATIONS {
            let url = format!("http://{addr}{}", route.path);
            let method = reqwest::Method::from_bytes(route.method.as_bytes()).expect("method");
            let mut request = client
                .request(method, &url)
                .json(&serde_json::json!({"name": "Grinder"}));
            if let Some(value) = authorization(&issuer, &impostor, route, situation) {
                request = request.header("authorization", value);
            }
            let response = request.send().await.expect("response");
            let want = expected(route, situation);
            let case = format!("{} {} with {situation:?}", route.method, route.path);
            assert_eq!(response.status().as_u16(), want.status, "{case}");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().expect("ascii").to_owned());
            assert_eq!(challenge, want.challenge, "{case}");
            let body: Value = response.json().await.expect("JSON body");
            match want.error {
                Some(error) => {
                    assert_eq!(body["error"], error, "{case}: {body}");
                    assert!(body["error_description"].is_string(), "{case}: {body}");
                }
                None => assert!(body.get(route.success_key).is_some(), "{case}: {body}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 49);
    // Keys came from the issuer's discovery document, fetched once.
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(idp.jwks_hits(), 1);
}

#[tokio::test]
async fn transport_oddities_are_answered_per_rfc_6750() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let addr = start_example(&idp).await;
    let client = reqwest::Client::new();
    let token = issuer.token().scope("read:orders").sign();
    let url = format!("http://{addr}/api/orders");

    let get = |headers: Vec<String>, query: &str| {
        let mut request = client.get(format!("{url}{query}"));
        for value in headers {
            request = request.header("authorization", value);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            get(vec![format!("bearer {token}")], "")
                .await
                .expect("send")
        ),
        200,
        "lowercase scheme"
    );
    assert_eq!(
        status(
            get(vec![format!("Bearer  {token}")], "")
                .await
                .expect("send")
        ),
        200,
        "two spaces"
    );
    assert_eq!(
        status(
            get(
                vec![format!("Bearer {token}"), format!("Bearer {token}")],
                ""
            )
            .await
            .expect("send")
        ),
        400,
        "two headers"
    );
    assert_eq!(
        status(
            get(vec![], &format!("?access_token={token}"))
                .await
                .expect("send")
        ),
        401,
        "query token off by default"
    );
    assert_eq!(
        status(get(vec!["Bearer".into()], "").await.expect("send")),
        400,
        "empty Bearer"
    );
    assert_eq!(
        status(
            get(vec!["Basic dXNlcjpwdw==".into()], "")
                .await
                .expect("send")
        ),
        401,
        "Basic scheme"
    );
}

#[test]
fn the_example_reads_its_configuration_from_the_environment() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let config = Config::from_vars(vars(&[
        ("SCOPEGATE_ISSUER", "https://tenant.example/"),
        ("SCOPEGATE_AUDIENCE", "api"),
        ("PORT", "8080"),
    ]));
    assert_eq!(
        config,
        Ok(Config {
            issuer: "https://tenant.example/".into(),
            audience: "api".into(),
            port: 8080
        })
    );
    assert_eq!(
        Config::from_vars(vars(&[
            ("SCOPEGATE_ISSUER", "https://t/"),
            ("SCOPEGATE_AUDIENCE", "api")
        ]))
        .map(|c| c.port),
        Ok(3000)
    );
    let missing = Config::from_vars(vars(&[("SCOPEGATE_AUDIENCE", "api")])).expect_err("no issuer");
    assert_eq!(missing, ConfigProblem::MissingIssuer);
    assert!(
        missing.to_string().contains("SCOPEGATE_ISSUER="),
        "says what to set"
    );
    assert_eq!(
        Config::from_vars(vars(&[("SCOPEGATE_ISSUER", "https://t/")])),
        Err(ConfigProblem::MissingAudience)
    );
    assert_eq!(
        Config::from_vars(vars(&[
            ("SCOPEGATE_ISSUER", "https://t/"),
            ("SCOPEGATE_AUDIENCE", "a"),
            ("PORT", "http")
        ])),
        Err(ConfigProblem::InvalidPort)
    );
    // A non-loopback plain-HTTP issuer is refused when the verifier is built.
    let insecure = Config {
        issuer: "http://tenant.example/".into(),
        audience: "api".into(),
        port: 0,
    };
    assert!(insecure.verifier().is_err());
}
