//! `cargo run -p example-axum-products` as a user runs it: the real binary, configured
//! from the environment, in front of a real OIDC issuer on 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use scopegate_core::test_util::TestIssuer;
use scopegate_tests::{Idp, Metadata};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const AUDIENCE: &str = "https://retail.example/api";

#[tokio::test]
async fn the_binary_serves_the_contract_in_front_of_an_oidc_issuer() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);

    let mut child = Command::new(env!("CARGO_BIN_EXE_example-axum-products"))
        .env("SCOPEGATE_ISSUER", idp.issuer())
        .env("SCOPEGATE_AUDIENCE", AUDIENCE)
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the example prints its address within 30 s")
        .expect("read stdout")
        .expect("a line");
    let base = first
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();

    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<String>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(get("/api/public", None).await.expect("send")), 200);
    assert_eq!(status(get("/api/private", None).await.expect("send")), 401);
    assert_eq!(
        status(
            get("/api/private", Some(issuer.token().sign()))
                .await
                .expect("send")
        ),
        200
    );
    assert_eq!(
        status(
            get(
                "/api/orders",
                Some(issuer.token().scope("read:products").sign())
            )
            .await
            .expect("send")
        ),
        403
    );
    assert_eq!(
        status(
            get(
                "/api/orders",
                Some(issuer.token().scope("read:orders").sign())
            )
            .await
            .expect("send")
        ),
        200
    );
    let both = issuer.token().scope("read:orders read:analytics").sign();
    assert_eq!(
        status(get("/api/reports", Some(both)).await.expect("send")),
        200
    );
    // Keys were discovered from the issuer at startup.
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 1);

    child.kill().await.expect("stop the example");
}

#[tokio::test]
async fn without_an_issuer_the_binary_says_what_to_set() {
    let output = Command::new(env!("CARGO_BIN_EXE_example-axum-products"))
        .env_remove("SCOPEGATE_ISSUER")
        .env_remove("SCOPEGATE_AUDIENCE")
        .output()
        .await
        .expect("run the example");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SCOPEGATE_ISSUER is not set"), "{stderr}");
}
