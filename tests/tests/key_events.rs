//! The remote key cache reports its state and emits an event per fetch. Alone in its
//! test binary: `tracing`'s per-callsite interest cache is process-wide, so event capture
//! must not race tests on other threads.

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{RemoteKeys, VerifierConfig};
use scopegate_tests::{CapturedLog, Idp, Metadata, Mode};

#[tokio::test]
async fn status_reports_the_cache_and_events_report_fetches() {
    let captured = CapturedLog::default();
    let _guard = captured.install(tracing::Level::DEBUG);

    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::None).await;
    let issuer = placeholder.with_issuer(idp.issuer());
    let verifier = VerifierConfig::new(issuer.issuer(), issuer.audience())
        .keys(
            RemoteKeys::discovery(issuer.issuer())
                .build()
                .expect("keys"),
        )
        .build()
        .expect("verifier");
    verifier.refresh_keys().await.expect("fetch");
    let status = verifier.key_status().expect("remote");
    assert_eq!(status.source, issuer.issuer());
    assert_eq!(status.key_ids, [issuer.kid()]);
    assert!(status.last_refresh.is_some() && status.last_attempt.is_some());
    assert_eq!((status.fetches, status.consecutive_failures), (1, 0));

    idp.set_mode(Mode::Status(502));
    assert!(
        verifier.refresh_keys().await.is_ok(),
        "cached keys still serve"
    );
    let status = verifier.key_status().expect("remote");
    assert_eq!(
        (status.consecutive_failures, status.last_error.as_deref()),
        (1, Some("HTTP status 502"))
    );

    let log = captured.take_lines().join(
        "
",
    );
    assert!(log.contains("fetching keys"), "{log}");
    let fetched = log
        .lines()
        .find(|l| l.contains("keys fetched"))
        .expect("success event");
    assert!(
        fetched.contains("key_count=1")
            && fetched.contains("status=200")
            && fetched.contains("duration_ms="),
        "{fetched}"
    );
    let failed = log
        .lines()
        .find(|l| l.contains("key fetch failed"))
        .expect("failure event");
    assert!(
        failed.contains("status=502") && failed.contains("duration_ms="),
        "{failed}"
    );
}
