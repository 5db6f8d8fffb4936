//! Running an example API binary as a user would: configured from the environment, in
//! front of a real OIDC issuer on 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use scopegate_core::test_util::TestIssuer;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::{Idp, Metadata};

/// The API identifier the example binaries are configured with here.
pub const AUDIENCE: &str = "https://retail.example/api";

/// The path of the program `name` in the directory of the running executable: the
/// example binaries next to a harness built in the same `target/` profile.
pub fn next_to_current_exe(name: &str) -> std::path::PathBuf {
    std::env::current_exe()
        .expect("the running executable's path")
        .with_file_name(name)
}

/// An example binary running in front of an external issuer; stopped when dropped.
#[derive(Debug)]
pub struct ExampleServer {
    child: Child,
    base: String,
}

impl ExampleServer {
    /// Starts `binary` with `SCOPEGATE_ISSUER=issuer`, `SCOPEGATE_AUDIENCE` =
    /// [`AUDIENCE`], `PORT=0`, `RUST_LOG=warn` and the extra variables `env` (an empty
    /// value removes the variable), and waits (up to 30 s) for the address it prints.
    pub async fn start(binary: &str, issuer: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with_output(binary, issuer, env, None).await
    }

    /// As [`start`](Self::start); every line the example prints after its address is sent
    /// to the returned receiver.
    pub async fn start_logging(
        binary: &str,
        issuer: &str,
        env: &[(&str, &str)],
    ) -> (Self, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        let server = Self::start_with_output(binary, issuer, env, Some(sender)).await;
        (server, receiver)
    }

    async fn start_with_output(
        binary: &str,
        issuer: &str,
        env: &[(&str, &str)],
        output: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    ) -> Self {
        let (child, mut lines) = spawn(binary, Some(issuer), env);
        // Log lines (e.g. a failed first key fetch) may come first.
        let listening = async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .expect("read stdout")
                    .expect("the example prints its address");
                if let Some(base) = line.strip_prefix("listening on ") {
                    return base.to_owned();
                }
            }
        };
        let base = tokio::time::timeout(Duration::from_secs(30), listening)
            .await
            .expect("the example prints its address within 30 s");
        // Keep draining stdout so the example never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(output) = &output {
                    let _ = output.send(line);
                }
            }
        });
        Self { child, base }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The process's resident memory in KiB, from `/proc` (Linux); `None` elsewhere.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        self.child.kill().await.expect("stop the example");
    }
}

/// Starts `binary` with `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE` and `PORT=0`, reads its
/// address from stdout, checks a slice of the route contract, and stops it.
pub async fn serves_the_contract(binary: &str) {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);

    let server = ExampleServer::start(binary, &idp.issuer(), &[]).await;
    let base = server.base().to_owned();

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
    server.stop().await;
}

/// Starts `binary` with its default logging (no `RUST_LOG`), sends accepted requests,
/// then one refused for a missing scope and one with an expired token: the example must write
/// an audit line for each refusal and none for an accepted request.
pub async fn default_logging_records_refusals_only(binary: &str) {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let (server, mut output) =
        ExampleServer::start_logging(binary, &idp.issuer(), &[("RUST_LOG", "")]).await;
    let client = reqwest::Client::new();
    let get = |token: String| {
        let request = client
            .get(format!("{}/api/orders", server.base()))
            .bearer_auth(token);
        async move { request.send().await.expect("response").status().as_u16() }
    };
    let reader = issuer
        .token()
        .subject("auth0|sam")
        .scope("read:orders")
        .sign();
    for _ in 0..20 {
        assert_eq!(get(reader.clone()).await, 200);
    }
    assert_eq!(get(issuer.token().scope("read:products").sign()).await, 403);
    assert_eq!(
        get(issuer.token().scope("read:orders").expired().sign()).await,
        401
    );

    // Lines come in request order: once both refusals are written, any line an accepted
    // request wrote has been read too.
    let mut audit = Vec::new();
    let both_refusals = async {
        while audit
            .iter()
            .filter(|l: &&String| l.contains(r#"decision="deny""#))
            .count()
            < 2
        {
            let line = output.recv().await.expect("the example keeps running");
            if line.contains("scopegate::audit") {
                audit.push(line);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), both_refusals)
        .await
        .expect("both refusals are logged");
    assert_eq!(audit.len(), 2, "only the refusals are logged: {audit:#?}");
    assert!(
        audit[0].contains(r#"reason="insufficient_scope""#),
        "{}",
        audit[0]
    );
    assert!(audit[1].contains(r#"reason="expired""#), "{}", audit[1]);
    server.stop().await;
}

/// Runs `binary` with no issuer configured: it must start the embedded dev issuer and
/// print curl commands that, run as printed, return the statuses they announce.
pub async fn quickstart_commands_return_what_they_announce(binary: &str) {
    let (mut child, mut lines) = spawn(binary, None, &[]);
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
/// `None`), with the extra variables `env`; returns the process, stopped when dropped,
/// and its stdout lines.
fn spawn(
    binary: &str,
    issuer: Option<&str>,
    env: &[(&str, &str)],
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut command = Command::new(binary);
    command.env("PORT", "0").env("RUST_LOG", "warn");
    match issuer {
        Some(issuer) => command
            .env("SCOPEGATE_ISSUER", issuer)
            .env("SCOPEGATE_AUDIENCE", AUDIENCE),
        None => command
            .env_remove("SCOPEGATE_ISSUER")
            .env_remove("SCOPEGATE_AUDIENCE"),
    };
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}
