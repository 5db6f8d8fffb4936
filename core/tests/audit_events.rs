//! Every decision emits one audit event on `scopegate::audit`, and no event carries the token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Requirement, audit};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().expect("lock"));
        String::from_utf8(bytes)
            .expect("utf8")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn decisions_are_audited_without_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("config");

    let token = issuer
        .token()
        .subject("auth0|ivy")
        .claim("azp", "portal")
        .scope("read:orders")
        .sign();
    let verified = verifier.verify(&token).await.expect("valid");
    let lines = captured.take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.contains(audit::TARGET), "{line}");
    for field in [
        r#"decision="allow""#,
        r#"sub="auth0|ivy""#,
        r#"client_id="portal""#,
        "granted=read:orders",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }

    let denied = Requirement::all(["write:products"])
        .expect("req")
        .check(&verified);
    assert!(denied.is_err());
    let lines = captured.take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    for field in [
        r#"decision="deny""#,
        r#"reason="insufficient_scope""#,
        "required=write:products",
        "granted=read:orders",
        r#"sub="auth0|ivy""#,
    ] {
        assert!(lines[0].contains(field), "{field} in {}", lines[0]);
    }

    let expired = issuer.token().subject("auth0|mallory").expired().sign();
    assert!(verifier.verify(&expired).await.is_err());
    let lines = captured.take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(r#"decision="deny""#) && lines[0].contains(r#"reason="expired""#),
        "{}",
        lines[0]
    );
    assert!(
        !lines[0].contains("mallory"),
        "claims of a rejected token are not logged: {}",
        lines[0]
    );

    let malformed = "Bearer two words";
    assert!(
        verifier
            .authenticate([malformed.as_bytes()], None)
            .await
            .is_err()
    );
    let lines = captured.take();
    assert!(
        lines.len() == 1 && lines[0].contains(r#"reason="invalid_request""#),
        "{lines:?}"
    );

    let no_credentials: [&[u8]; 0] = [];
    assert!(verifier.authenticate(no_credentials, None).await.is_err());
    let lines = captured.take();
    assert!(
        lines.len() == 1 && lines[0].contains(r#"reason="missing_credentials""#),
        "{lines:?}"
    );

    // No event ever contains any part of a token.
    for token in [&token, &expired] {
        for part in token.split('.') {
            assert!(!captured_all_contains(&lines, part));
        }
    }
}

fn captured_all_contains(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|line| line.contains(needle))
}
