//! Running an example API binary as a user would: configured from the environment, in
//! front of a real OIDC issuer on 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use scopegate_core::test_util::TestIssuer;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

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

    let (mut child, mut lines) = spawn(binary, Some(&idp.issuer()));
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

/// Runs `binary` with no issuer configured: it must start the embedded dev issuer and
/// print curl commands that, run as printed, return the statuses they announce.
pub async fn quickstart_commands_return_what_they_announce(binary: &str) {
    let (mut child, mut lines) = spawn(binary, None);
    let expected_commands: usize = example_common::PERSONAS
        .iter()
        .map(|p| p.commands.len())
        .sum();
    let mut commands = Vec::new();
    let read_all = async {
        while commands.len() < expected_commands {
            let line = lines
                .next_line()
                .await
                .expect("read stdout")
                .expect("the example prints every command");
            if line.starts_with("curl ") {
                commands.push(line);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the quick start is printed within 30 s");

    for line in &commands {
        let announced: u16 = line
            .split("# expect ")
            .nth(1)
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .expect("each line announces a status");
        let output = tokio::time::timeout(
            Duration::from_secs(10),
            Command::new("sh").arg("-c").arg(line).output(),
        )
        .await
        .expect("curl finishes")
        .expect("run curl");
        let got = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert_eq!(got, announced.to_string(), "{line}");
    }
    child.kill().await.expect("stop the example");
}

/// Starts `binary` on a free port, in front of `issuer` (or the embedded dev issuer with
/// `None`); returns the process, stopped when dropped, and its stdout lines.
fn spawn(binary: &str, issuer: Option<&str>) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut command = Command::new(binary);
    match issuer {
        Some(issuer) => command
            .env("SCOPEGATE_ISSUER", issuer)
            .env("SCOPEGATE_AUDIENCE", AUDIENCE),
        None => command
            .env_remove("SCOPEGATE_ISSUER")
            .env_remove("SCOPEGATE_AUDIENCE"),
    };
    let mut child = command
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}
