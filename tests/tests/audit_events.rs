//! Every decision emits one audit event on `scopegate::audit`, and no event carries the
//! token. Denials are INFO events; allows are DEBUG, so the usual `info` level writes
//! nothing for an accepted request.

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Requirement, audit};
use scopegate_tests::CapturedLog;

#[tokio::test]
async fn decisions_are_audited_without_the_token() {
    let captured = CapturedLog::default();
    let _guard = captured.install(tracing::Level::DEBUG);

    let mut seen: Vec<String> = Vec::new();
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("config");

    let token = issuer
        .token()
        .subject("auth0|ivy")
        .claim("azp", "portal")
        .scope("read:orders")
        .sign();
    let verified = verifier.verify(&token).await.expect("valid");
    let lines = captured.take_lines();
    seen.extend(lines.iter().cloned());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.contains(audit::TARGET), "{line}");
    assert!(line.contains("DEBUG"), "an allow is a DEBUG event: {line}");
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
    let lines = captured.take_lines();
    seen.extend(lines.iter().cloned());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(" INFO "),
        "a denial is an INFO event: {}",
        lines[0]
    );
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
    let lines = captured.take_lines();
    seen.extend(lines.iter().cloned());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(" INFO ")
            && lines[0].contains(r#"decision="deny""#)
            && lines[0].contains(r#"reason="expired""#),
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
    let lines = captured.take_lines();
    seen.extend(lines.iter().cloned());
    assert!(
        lines.len() == 1 && lines[0].contains(r#"reason="invalid_request""#),
        "{lines:?}"
    );

    let no_credentials: [&[u8]; 0] = [];
    assert!(verifier.authenticate(no_credentials, None).await.is_err());
    let lines = captured.take_lines();
    seen.extend(lines.iter().cloned());
    assert!(
        lines.len() == 1 && lines[0].contains(r#"reason="missing_credentials""#),
        "{lines:?}"
    );

    // No event ever contains any part of either token.
    assert_eq!(seen.len(), 5);
    for token in [&token, &expired] {
        for part in token.split('.') {
            assert!(
                !seen.iter().any(|line| line.contains(part)),
                "token part logged"
            );
        }
    }
}

#[tokio::test]
async fn at_info_level_allows_write_nothing_and_denials_one_line() {
    let captured = CapturedLog::default();
    let _guard = captured.install(tracing::Level::INFO);
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("config");
    let read_orders = Requirement::all(["read:orders"]).expect("req");

    let token = issuer.token().scope("read:orders").sign();
    let header = format!("Bearer {token}");
    for _ in 0..3 {
        let verified = verifier
            .authenticate([header.as_bytes()], None)
            .await
            .expect("valid");
        read_orders.check(&verified).expect("granted");
    }
    assert_eq!(captured.take_lines(), Vec::<String>::new());

    let verified = verifier.verify(&token).await.expect("valid");
    assert!(
        Requirement::all(["write:products"])
            .expect("req")
            .check(&verified)
            .is_err()
    );
    let lines = captured.take_lines();
    assert!(
        lines.len() == 1 && lines[0].contains(r#"reason="insufficient_scope""#),
        "{lines:?}"
    );
}
