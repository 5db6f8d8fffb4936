//! The per-request paths that must not allocate: reading a bearer token from the header
//! and checking scopes against a requirement.

use scopegate_core::bearer::extract_bearer;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Requirement, ScopeSet};

#[test]
fn scope_checks_do_not_allocate() {
    let granted =
        ScopeSet::from_space_delimited("read:orders read:products write:products read:analytics");
    let all = Requirement::all(["read:orders", "read:analytics"]).expect("req");
    let any = Requirement::any(["delete:analytics", "write:products"]).expect("req");
    let unmet = Requirement::all(["delete:analytics"]).expect("req");
    let info = allocation_counter::measure(|| {
        assert!(all.is_satisfied_by(&granted));
        assert!(any.is_satisfied_by(&granted));
        assert!(!unmet.is_satisfied_by(&granted));
        assert!(granted.contains("write:products"));
    });
    assert_eq!(info.count_total, 0);
}

#[tokio::test]
async fn scope_check_on_a_verified_token_does_not_allocate() {
    let issuer = TestIssuer::new();
    let verified = issuer
        .verifier()
        .expect("config")
        .verify(&issuer.token().scope("read:orders write:products").sign())
        .await
        .expect("valid");
    let required = Requirement::all(["write:products"]).expect("req");
    let info = allocation_counter::measure(|| {
        assert!(required.is_satisfied_by(verified.scopes()));
        assert!(verified.has_scope("read:orders"));
    });
    assert_eq!(info.count_total, 0);
}

#[test]
fn bearer_header_parsing_does_not_allocate() {
    let header = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
    let info = allocation_counter::measure(|| {
        let token = extract_bearer([header.as_bytes()], None, false).expect("token");
        assert_eq!(token.len(), header.len() - "Bearer ".len());
        let err = extract_bearer([&b"Basic abc"[..]], None, false).expect_err("no bearer");
        assert_eq!(err.status().as_u16(), 401);
    });
    assert_eq!(info.count_total, 0);
}
