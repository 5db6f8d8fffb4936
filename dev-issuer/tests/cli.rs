//! The command line: `serve` and `token` sharing a key file produce tokens that verify
//! against the served discovery document.

use std::process::Stdio;
use std::time::Duration;

use scopegate_core::VerifierConfig;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_scopegate-dev-issuer");

#[tokio::test]
async fn token_printed_by_the_cli_verifies_against_serve() {
    let dir = std::env::temp_dir().join(format!("scopegate-dev-issuer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key_file = dir.join("key.pem");
    let _ = std::fs::remove_file(&key_file);

    let mut serve = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--key-file"])
        .arg(&key_file)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("serve prints its issuer")
        .expect("read")
        .expect("line");
    let issuer = first
        .strip_prefix("issuer ")
        .and_then(|rest| rest.split(' ').next())
        .expect("issuer line")
        .to_owned();

    let output = Command::new(BIN)
        .args([
            "token",
            "--issuer",
            &issuer,
            "--client-id",
            "reporting-job",
            "--client-secret",
            "reporting-job-secret",
        ])
        .args(["--audience", "https://retail.example/api", "--key-file"])
        .arg(&key_file)
        .output()
        .await
        .expect("token");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();

    let verifier = VerifierConfig::new(issuer, "https://retail.example/api")
        .build()
        .expect("verifier");
    let verified = verifier
        .verify(&token)
        .await
        .expect("the CLI token verifies against the server");
    assert_eq!(verified.scopes().to_string(), "read:orders read:analytics");

    let refused = Command::new(BIN)
        .args([
            "token",
            "--client-id",
            "reporting-job",
            "--client-secret",
            "wrong",
            "--audience",
            "https://retail.example/api",
        ])
        .output()
        .await
        .expect("token");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid_client"));

    let bad_config = dir.join("bad.toml");
    std::fs::write(&bad_config, "[[api]]\nidentifier = \"x\"\nrbac = true\nuser_access_policy = \"allow\"\npermissions = [\"nocolon\"]\n").expect("write");
    let output = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&bad_config)
        .output()
        .await
        .expect("serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 5, column 16") && stderr.contains("verb:resource"),
        "{stderr}"
    );

    serve.kill().await.expect("stop serve");
    let _ = std::fs::remove_dir_all(&dir);
}
