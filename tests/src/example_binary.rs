//! Running an example API binary as a user would: configured from the environment, in
//! front of a real OIDC issuer on 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use scopegate_core::test_util::TestIssuer;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::{Idp, Metadata};

const AUDIENCE: &str = "https://retail.example/api";

/// Starts `binary` with `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE` and `PORT=0`, reads its
/// address from stdout, checks a slice of the route contract, and stops it.
pub async fn serves_the_contract(binary: &str) {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);

    let mut child = Command::new(binary)
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
    let status = |path: &'static str, token: Option<String>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("response").status().as_u16() }
    };
    assert_eq!(status("/api/public", None).await, 200);
    assert_eq!(status("/api/private", None).await, 401);
    assert_eq!(
        status("/api/private", Some(issuer.token().sign())).await,
        200
    );
    assert_eq!(
        status(
            "/api/orders",
            Some(issuer.token().scope("read:products").sign())
        )
        .await,
        403
    );
    assert_eq!(
        status(
            "/api/orders",
            Some(issuer.token().scope("read:orders").sign())
        )
        .await,
        200
    );
    assert_eq!(
        status(
            "/api/reports",
            Some(issuer.token().scope("read:orders read:analytics").sign())
        )
        .await,
        200
    );
    // Keys were discovered from the issuer at startup.
    assert_eq!(idp.hits("/.well-known/openid-configuration"), 1);
    child.kill().await.expect("stop the example");
}

/// Runs `binary` without configuration: it must exit 2 and say what to set.
pub async fn says_what_to_set_without_an_issuer(binary: &str) {
    let output = Command::new(binary)
        .env_remove("SCOPEGATE_ISSUER")
        .env_remove("SCOPEGATE_AUDIENCE")
        .output()
        .await
        .expect("run the example");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SCOPEGATE_ISSUER is not set"), "{stderr}");
}
