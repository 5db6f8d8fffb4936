//! One conformance table for both adapters: every case runs against the axum example and
//! the actix example, each a real server on 127.0.0.1 whose keys are discovered from the
//! same OIDC issuer, with the same tokens. A case fails if either adapter misses the
//! expected answer or if the two adapters answer differently.

use scopegate_core::test_util::TestIssuer;
use scopegate_tests::contract::{Case, Observed, ROUTES, cases};
use scopegate_tests::{Idp, Metadata, example_apps};
use serde_json::Value;

const AUDIENCE: &str = "https://retail.example/api";

/// The example's own configuration in front of `idp`.
fn config(idp: &Idp) -> example_axum_products::Config {
    example_axum_products::Config {
        issuer: idp.issuer(),
        audiences: vec![AUDIENCE.into()],
        token_cache: true,
        dpop: None,
        port: 0,
    }
}

async fn start_axum(idp: &Idp) -> String {
    example_apps::start_axum(config(idp).verifier().expect("verifier")).await
}

async fn start_actix(idp: &Idp) -> String {
    example_apps::start_actix(config(idp).verifier().expect("verifier"))
}

async fn observe(client: &reqwest::Client, base: &str, case: &Case) -> Observed {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let url = match &case.query {
        Some(query) => format!("{base}{}?{query}", case.path),
        None => format!("{base}{}", case.path),
    };
    let mut request = client
        .request(method, url)
        .json(&serde_json::json!({"name": "Grinder"}));
    for value in &case.authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body: Value = response.json().await.expect("JSON body");
    let route = ROUTES
        .iter()
        .find(|r| r.method == case.method && r.path == case.path)
        .expect("route");
    Observed {
        status,
        challenge,
        error: body.get("error").and_then(Value::as_str).map(str::to_owned),
        success_body: body.get(route.success_key).is_some(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_adapters_answer_every_case_identically_and_as_specified() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let impostor = TestIssuer::new()
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let adapters = [
        ("axum", start_axum(&idp).await),
        ("actix", start_actix(&idp).await),
    ];
    let client = reqwest::Client::new();

    let table = cases(&issuer, &impostor);
    assert!(table.len() >= 60, "{} cases", table.len());
    for case in &table {
        let mut answers = Vec::new();
        for (adapter, base) in &adapters {
            let observed = observe(&client, base, case).await;
            let want = &case.expected;
            let name = format!("{adapter}: {}", case.name);
            assert_eq!(observed.status, want.status, "{name}");
            assert_eq!(observed.challenge, want.challenge, "{name}");
            assert_eq!(observed.error.as_deref(), want.error, "{name}");
            assert_eq!(observed.success_body, want.error.is_none(), "{name}");
            answers.push(observed);
        }
        assert_eq!(
            answers[0], answers[1],
            "axum and actix diverge on {}",
            case.name
        );
    }
    // Each adapter discovered the issuer's keys once.
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 2);
}

/// `POST /api/products` with `write:products`: an empty body and a JSON `{name}` create
/// (201); anything else is 400 `invalid_body`, the same on both adapters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_product_takes_an_empty_body_or_a_json_name() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let token = issuer
        .token()
        .subject("auth0|ivy")
        .scope("write:products")
        .sign();
    let client = reqwest::Client::new();
    // (body, content type, status, `name` of a 201 or `error` of a 400)
    let cases: [(&str, Option<&str>, u16, Value); 7] = [
        ("", None, 201, Value::Null),
        ("", Some("application/json"), 201, Value::Null),
        (
            r#"{"name":"Grinder"}"#,
            Some("application/json"),
            201,
            "Grinder".into(),
        ),
        (r#"{"name":"Kettle"}"#, None, 201, "Kettle".into()),
        (
            "name=Grinder",
            Some("application/x-www-form-urlencoded"),
            400,
            "invalid_body".into(),
        ),
        (
            r#"{"title":"Grinder"}"#,
            Some("application/json"),
            400,
            "invalid_body".into(),
        ),
        ("{", Some("application/json"), 400, "invalid_body".into()),
    ];
    for (adapter, base) in [
        ("axum", start_axum(&idp).await),
        ("actix", start_actix(&idp).await),
    ] {
        for (body, content_type, status, want) in &cases {
            let mut request = client
                .post(format!("{base}/api/products"))
                .bearer_auth(&token)
                .body(*body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", *content_type);
            }
            let response = request.send().await.expect("response");
            let name = format!("{adapter}: {body:?} as {content_type:?}");
            assert_eq!(response.status().as_u16(), *status, "{name}");
            let answer: Value = response.json().await.expect("JSON body");
            if *status == 201 {
                assert_eq!(answer["name"], *want, "{name}");
                assert_eq!(answer["by"], "auth0|ivy", "{name}");
            } else {
                assert_eq!(answer["error"], *want, "{name}");
            }
        }
        let unauthorized = client
            .post(format!("{base}/api/products"))
            .send()
            .await
            .expect("response");
        assert_eq!(
            unauthorized.status().as_u16(),
            401,
            "{adapter}: no token, no body"
        );
    }
}

#[test]
fn the_examples_read_their_configuration_from_the_environment() {
    use example_axum_products::{Config, ConfigProblem};
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    const ISSUER: (&str, &str) = ("SCOPEGATE_ISSUER", "https://tenant.example/");
    const AUDIENCE_VAR: (&str, &str) = ("SCOPEGATE_AUDIENCE", "api");
    let expected = Config {
        issuer: "https://tenant.example/".into(),
        audiences: vec!["api".into()],
        port: 8080,
        token_cache: true,
        dpop: None,
    };
    assert_eq!(
        Config::from_vars(vars(&[ISSUER, AUDIENCE_VAR, ("PORT", "8080")])),
        Ok(Some(expected))
    );
    let defaults = Config::from_vars(vars(&[ISSUER, AUDIENCE_VAR]))
        .expect("valid")
        .expect("configured");
    assert_eq!((defaults.port, defaults.token_cache), (3000, true));
    let no_cache = Config::from_vars(vars(&[
        ISSUER,
        AUDIENCE_VAR,
        ("SCOPEGATE_TOKEN_CACHE", "0"),
    ]));
    assert_eq!(no_cache.map(|c| c.map(|c| c.token_cache)), Ok(Some(false)));
    let dpop = |value: &'static str| {
        Config::from_vars(vars(match value {
            "allowed" => &[ISSUER, AUDIENCE_VAR, ("SCOPEGATE_DPOP", "allowed")],
            "required" => &[ISSUER, AUDIENCE_VAR, ("SCOPEGATE_DPOP", "required")],
            _ => &[ISSUER, AUDIENCE_VAR, ("SCOPEGATE_DPOP", "maybe")],
        }))
        .map(|c| c.and_then(|c| c.dpop))
    };
    assert_eq!(dpop("allowed"), Ok(Some(scopegate_core::DpopMode::Allowed)));
    assert_eq!(
        dpop("required"),
        Ok(Some(scopegate_core::DpopMode::Required))
    );
    assert_eq!(dpop("maybe"), Err(ConfigProblem::InvalidDpop));
    assert_eq!(defaults.dpop, None);
    assert_eq!(
        Config::from_vars(vars(&[AUDIENCE_VAR])),
        Ok(None),
        "no issuer: the embedded one runs"
    );
    let missing = Config::from_vars(vars(&[ISSUER])).expect_err("no audience");
    assert_eq!(missing, ConfigProblem::MissingAudience);
    assert!(
        missing.to_string().contains("SCOPEGATE_AUDIENCE"),
        "says what to set"
    );
    assert_eq!(
        Config::from_vars(vars(&[("PORT", "http")])),
        Err(ConfigProblem::InvalidPort)
    );
    let insecure = Config {
        issuer: "http://tenant.example/".into(),
        audiences: vec!["api".into()],
        port: 0,
        token_cache: true,
        dpop: None,
    };
    assert!(insecure.verifier().is_err());
}
