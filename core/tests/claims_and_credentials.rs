//! Claim rules, profiles, scopes and credentials, end to end with real signed tokens.
//! Time-dependent rules use an injected clock: no sleeps.

use http::{HeaderMap, HeaderValue, Uri};
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{
    Algorithm, ClaimRule, ErrorKind, Profile, Requirement, ScopeSource, Verifier, VerifierConfig,
};
use serde_json::json;
use std::time::Duration;

const NOW: u64 = 1_800_000_000;

fn issuer() -> TestIssuer {
    TestIssuer::with_algorithm(Algorithm::ES256)
}

fn at_now(config: VerifierConfig) -> Verifier {
    config.clock(|| NOW).build().expect("config")
}

async fn verify(verifier: &Verifier, token: &str) -> Result<(), ErrorKind> {
    verifier.verify(token).await.map(drop).map_err(|e| e.kind())
}

#[tokio::test]
async fn exp_nbf_iat_and_leeway() {
    let issuer = issuer();
    let verifier = at_now(issuer.verifier_config());
    let base = || issuer.token().claim("iat", NOW - 10);
    assert_eq!(
        verify(&verifier, &base().claim("exp", NOW + 1).sign()).await,
        Ok(())
    );
    assert_eq!(
        verify(&verifier, &base().claim("exp", NOW - 4).sign()).await,
        Ok(()),
        "within 5 s leeway"
    );
    assert_eq!(
        verify(&verifier, &base().claim("exp", NOW - 5).sign()).await,
        Err(ErrorKind::Expired)
    );
    assert_eq!(
        verify(
            &verifier,
            &base().claim("exp", NOW + 60).claim("nbf", NOW + 5).sign()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        verify(
            &verifier,
            &base().claim("exp", NOW + 60).claim("nbf", NOW + 6).sign()
        )
        .await,
        Err(ErrorKind::NotYetValid)
    );
    assert_eq!(
        verify(
            &verifier,
            &issuer
                .token()
                .claim("exp", NOW + 60)
                .claim("iat", NOW + 6)
                .sign()
        )
        .await,
        Err(ErrorKind::IssuedInFuture)
    );
    assert_eq!(
        verify(&verifier, &base().without_claim("exp").sign()).await,
        Err(ErrorKind::MissingClaim)
    );

    let lenient = at_now(issuer.verifier_config().leeway(Duration::from_secs(60)));
    assert_eq!(
        verify(&lenient, &base().claim("exp", NOW - 59).sign()).await,
        Ok(())
    );
}

#[tokio::test]
async fn max_age_bounds_iat() {
    let issuer = issuer();
    let verifier = at_now(issuer.verifier_config().max_age(Duration::from_secs(600)));
    let token = |iat: u64| {
        issuer
            .token()
            .claim("iat", iat)
            .claim("exp", NOW + 60)
            .sign()
    };
    assert_eq!(verify(&verifier, &token(NOW - 600)).await, Ok(()));
    assert_eq!(
        verify(&verifier, &token(NOW - 606)).await,
        Err(ErrorKind::TooOld)
    );
    let no_iat = issuer
        .token()
        .without_claim("iat")
        .claim("exp", NOW + 60)
        .sign();
    assert_eq!(
        verify(&verifier, &no_iat).await,
        Err(ErrorKind::MissingClaim)
    );
}

#[tokio::test]
async fn issuer_must_match_exactly() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let iss = issuer.issuer().to_owned();
    for wrong in [
        iss.trim_end_matches('/').to_owned(),
        iss.to_uppercase(),
        format!("{iss}x"),
        "https://evil.example/".to_owned(),
    ] {
        assert_eq!(
            verify(
                &verifier,
                &issuer.token().claim("iss", wrong.as_str()).sign()
            )
            .await,
            Err(ErrorKind::InvalidIssuer),
            "{wrong}"
        );
    }
    assert_eq!(
        verify(&verifier, &issuer.token().without_claim("iss").sign()).await,
        Err(ErrorKind::MissingClaim)
    );
}

#[tokio::test]
async fn audience_string_or_array_must_contain_a_configured_one() {
    let issuer = issuer();
    let verifier = issuer
        .verifier_config()
        .audience("https://second.example/")
        .build()
        .expect("config");
    assert_eq!(
        verify(
            &verifier,
            &issuer.token().audience("https://second.example/").sign()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        verify(
            &verifier,
            &issuer
                .token()
                .audiences(["https://other.example/", issuer.audience()])
                .sign()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        verify(
            &verifier,
            &issuer.token().audience("https://other.example/").sign()
        )
        .await,
        Err(ErrorKind::InvalidAudience)
    );
    assert_eq!(
        verify(
            &verifier,
            &issuer.token().audiences(["https://other.example/"]).sign()
        )
        .await,
        Err(ErrorKind::InvalidAudience)
    );
    assert_eq!(
        verify(&verifier, &issuer.token().without_claim("aud").sign()).await,
        Err(ErrorKind::MissingClaim)
    );
}

#[tokio::test]
async fn wrong_json_types_are_invalid() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let exp = issuer.token().claims()["exp"].as_u64().expect("exp");
    let cases = [
        ("exp", json!(exp.to_string())),
        ("exp", json!(exp as f64 + 0.5)),
        ("exp", json!(null)),
        ("exp", json!(-1)),
        ("nbf", json!("0")),
        ("iat", json!([1])),
        ("aud", json!(null)),
        ("aud", json!(42)),
        ("aud", json!([])),
        ("aud", json!({"aud": issuer.audience()})),
        ("iss", json!([issuer.issuer()])),
        ("sub", json!(12)),
        ("azp", json!(null)),
        ("client_id", json!(["c"])),
    ];
    for (claim, value) in cases {
        let token = issuer.token().claim(claim, value.clone()).sign();
        assert_eq!(
            verify(&verifier, &token).await,
            Err(ErrorKind::InvalidClaim),
            "{claim} = {value}"
        );
    }
}

#[tokio::test]
async fn duplicate_members_bom_and_non_objects_are_malformed() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, issuer.kid());
    let claims = serde_json::to_string(issuer.token().claims()).expect("json");
    let inner = claims.trim_start_matches('{').trim_end_matches('}');
    let cases: Vec<(String, String)> = vec![
        (
            header.clone(),
            format!(r#"{{{inner},"sub":"admin","sub":"auth0|test-user"}}"#),
        ),
        (
            header.clone(),
            format!(r#"{{{inner},"scope":"a:b","scope":"c:d"}}"#),
        ),
        (
            format!(
                r#"{{"alg":"ES256","alg":"ES256","kid":"{}"}}"#,
                issuer.kid()
            ),
            claims.clone(),
        ),
        (
            format!(r#"{{"alg":"ES256","kid":"{0}","kid":"{0}"}}"#, issuer.kid()),
            claims.clone(),
        ),
        (header.clone(), format!("\u{feff}{claims}")),
        (header.clone(), format!("[{claims}]")),
        (header.clone(), format!("{claims} {{}}")),
        (header.clone(), "null".to_owned()),
    ];
    for (h, p) in cases {
        let token = issuer.sign_raw(h.as_bytes(), p.as_bytes());
        assert_eq!(
            verify(&verifier, &token).await,
            Err(ErrorKind::MalformedToken),
            "{h} {p}"
        );
    }
    // The same bytes without the duplicate verify: the rejection is about the duplicate.
    assert_eq!(
        verify(
            &verifier,
            &issuer.sign_raw(header.as_bytes(), claims.as_bytes())
        )
        .await,
        Ok(())
    );
}

#[tokio::test]
async fn compact_shape_and_base64url_are_strict() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let token = issuer.token().sign();
    let parts: Vec<&str> = token.split('.').collect();
    let padded_header = format!("{}=", parts[0]);
    let cases = [
        String::new(),
        "abc".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.{}", parts[2]),
        format!(".{}.{}", parts[1], parts[2]),
        format!("{}..{}", parts[0], parts[2]),
        format!("{padded_header}.{}.{}", parts[1], parts[2]),
        format!("{}.{}+.{}", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            parts[0].replace('-', "+").replace('_', "/") + "+/",
            parts[1],
            parts[2]
        ),
    ];
    for case in cases {
        assert_eq!(
            verify(&verifier, &case).await,
            Err(ErrorKind::MalformedToken),
            "{case}"
        );
    }
    // A JWE-shaped header (five parts collapse into a bad shape; `enc` in a header too).
    let jwe_header = issuer.token().header("enc", "A256GCM").sign();
    assert_eq!(
        verify(&verifier, &jwe_header).await,
        Err(ErrorKind::MalformedToken)
    );
}

#[tokio::test]
async fn size_cap_applies_before_decoding() {
    let issuer = issuer();
    let verifier = issuer
        .verifier_config()
        .max_token_size(2048)
        .build()
        .expect("config");
    let big = issuer.token().claim("padding", "x".repeat(3000)).sign();
    assert_eq!(verify(&verifier, &big).await, Err(ErrorKind::TokenTooLarge));
    let garbage = "a".repeat(2049);
    assert_eq!(
        verify(&verifier, &garbage).await,
        Err(ErrorKind::TokenTooLarge)
    );
    let default = issuer.verifier().expect("config");
    assert_eq!(
        verify(&default, &"a.".repeat(9000)).await,
        Err(ErrorKind::TokenTooLarge),
        "16 KiB default"
    );
    assert_eq!(
        verify(
            &default,
            &issuer.token().claim("padding", "x".repeat(3000)).sign()
        )
        .await,
        Ok(())
    );
}

#[tokio::test]
async fn sender_constrained_tokens_are_refused_as_bearer() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let token = issuer
        .token()
        .claim(
            "cnf",
            json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        )
        .sign();
    assert_eq!(
        verify(&verifier, &token).await,
        Err(ErrorKind::SenderConstrained)
    );
}

#[tokio::test]
async fn default_profile_accepts_auth0_types_strict_profile_requires_rfc9068() {
    let issuer = issuer();
    let default = issuer.verifier().expect("config");
    for typ in [
        Some("JWT"),
        Some("at+jwt"),
        Some("application/at+jwt"),
        None,
    ] {
        let token = match typ {
            Some(typ) => issuer.token().header("typ", typ).sign(),
            None => issuer.token().without_header("typ").sign(),
        };
        assert_eq!(verify(&default, &token).await, Ok(()), "{typ:?}");
    }
    assert_eq!(
        verify(&default, &issuer.token().header("typ", "dpop+jwt").sign()).await,
        Err(ErrorKind::InvalidType)
    );

    let strict = issuer
        .verifier_config()
        .profile(Profile::strict_rfc9068())
        .build()
        .expect("config");
    let complete = || {
        issuer
            .token()
            .header("typ", "at+jwt")
            .claim("client_id", "app")
            .claim("jti", "id-1")
    };
    assert_eq!(verify(&strict, &complete().sign()).await, Ok(()));
    assert_eq!(
        verify(
            &strict,
            &complete().header("typ", "application/at+jwt").sign()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        verify(&strict, &complete().header("typ", "JWT").sign()).await,
        Err(ErrorKind::InvalidType)
    );
    assert_eq!(
        verify(&strict, &complete().without_header("typ").sign()).await,
        Err(ErrorKind::InvalidType)
    );
    for claim in ["sub", "client_id", "jti", "iat"] {
        assert_eq!(
            verify(&strict, &complete().without_claim(claim).sign()).await,
            Err(ErrorKind::MissingClaim),
            "{claim}"
        );
    }
}

#[tokio::test]
async fn custom_claim_rules_reject_with_invalid_token() {
    let issuer = issuer();
    let verifier = issuer
        .verifier_config()
        .require(ClaimRule::equals("https://retail.example/tier", "gold"))
        .require(ClaimRule::includes(
            "https://retail.example/groups",
            ["staff"],
        ))
        .require(ClaimRule::check("email verified", |c| {
            c.get("email_verified") == Some(&json!(true))
        }))
        .build()
        .expect("config");
    let ok = || {
        issuer
            .token()
            .claim("https://retail.example/tier", "gold")
            .claim("https://retail.example/groups", json!(["staff", "eu"]))
            .claim("email_verified", true)
    };
    assert_eq!(verify(&verifier, &ok().sign()).await, Ok(()));
    for bad in [
        ok().claim("https://retail.example/tier", "silver"),
        ok().claim("https://retail.example/groups", json!(["eu"])),
        ok().claim("email_verified", false),
        ok().without_claim("https://retail.example/tier"),
    ] {
        let err = verifier.verify(&bad.sign()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClaimRuleFailed);
        assert_eq!(
            (err.status().as_u16(), err.error_code()),
            (401, Some("invalid_token"))
        );
    }
}

#[tokio::test]
async fn scope_sources_read_the_configured_claims() {
    let issuer = issuer();
    let token = issuer
        .token()
        .scope("read:orders")
        .permissions(["write:products"])
        .claim("scp", json!(["read:analytics"]))
        .claim("https://retail.example/roles", "delete:analytics")
        .sign();
    let cases = [
        (ScopeSource::Scope, "read:orders"),
        (ScopeSource::Permissions, "write:products"),
        (ScopeSource::Scp, "read:analytics"),
        (
            ScopeSource::claim("https://retail.example/roles"),
            "delete:analytics",
        ),
        (
            ScopeSource::union(ScopeSource::Scope, ScopeSource::Permissions),
            "read:orders write:products",
        ),
    ];
    for (source, expected) in cases {
        let verifier = issuer
            .verifier_config()
            .scope_source(source.clone())
            .build()
            .expect("config");
        let verified = verifier.verify(&token).await.expect("valid");
        assert_eq!(verified.scopes().to_string(), expected, "{source:?}");
    }
    // A scope claim of the wrong type grants nothing but does not invalidate the token.
    let verifier = issuer.verifier().expect("config");
    for value in [
        json!(7),
        json!({"read:orders": true}),
        json!(["read:orders", 1]),
    ] {
        let verified = verifier
            .verify(&issuer.token().claim("scope", value.clone()).sign())
            .await
            .expect("valid");
        assert!(verified.scopes().is_empty(), "{value}");
        let denied = Requirement::all(["read:orders"])
            .expect("scope")
            .check(&verified)
            .unwrap_err();
        assert_eq!(denied.kind(), ErrorKind::InsufficientScope);
    }
}

#[tokio::test]
async fn scope_requirements_are_exact_and_case_sensitive() {
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let verified = verifier
        .verify(
            &issuer
                .token()
                .scope("read:orders write:Products read:analytics")
                .sign(),
        )
        .await
        .expect("valid");
    let check = |req: Requirement| req.check(&verified).map_err(|e| e.kind());
    assert_eq!(
        check(Requirement::all(["read:orders"]).expect("req")),
        Ok(())
    );
    assert_eq!(
        check(Requirement::all(["write:products"]).expect("req")),
        Err(ErrorKind::InsufficientScope)
    );
    assert_eq!(
        check(Requirement::all(["read:orders", "read:analytics"]).expect("req")),
        Ok(())
    );
    assert_eq!(
        check(Requirement::all(["read:orders", "delete:analytics"]).expect("req")),
        Err(ErrorKind::InsufficientScope)
    );
    assert_eq!(
        check(Requirement::any(["delete:analytics", "read:analytics"]).expect("req")),
        Ok(())
    );
    let err = Requirement::all(["read:orders", "delete:analytics"])
        .expect("req")
        .check(&verified)
        .unwrap_err();
    assert!(
        err.challenge("api")
            .expect("challenge")
            .ends_with(r#"scope="read:orders delete:analytics""#)
    );
}

fn headers(values: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for value in values {
        map.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
    }
    map
}

#[tokio::test]
async fn authenticate_request_reads_credentials_from_http_parts() {
    let issuer = issuer();
    let token = issuer.token().sign();
    let verifier = issuer.verifier().expect("config");
    let plain: Uri = "/api/private".parse().expect("uri");
    let with_query: Uri = format!("/api/private?access_token={token}")
        .parse()
        .expect("uri");
    let run = |verifier: Verifier, h: HeaderMap, uri: Uri| async move {
        verifier
            .authenticate_request(&h, &uri)
            .await
            .map(drop)
            .map_err(|e| e.kind())
    };

    assert_eq!(
        run(
            verifier.clone(),
            headers(&[&format!("Bearer {token}")]),
            plain.clone()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        run(
            verifier.clone(),
            headers(&[&format!("bearer  {token}")]),
            plain.clone()
        )
        .await,
        Ok(())
    );
    assert_eq!(
        run(verifier.clone(), headers(&[]), plain.clone()).await,
        Err(ErrorKind::MissingCredentials)
    );
    assert_eq!(
        run(
            verifier.clone(),
            headers(&["Basic dXNlcjpwdw=="]),
            plain.clone()
        )
        .await,
        Err(ErrorKind::MissingCredentials)
    );
    assert_eq!(
        run(verifier.clone(), headers(&["Bearer"]), plain.clone()).await,
        Err(ErrorKind::InvalidRequest)
    );
    assert_eq!(
        run(
            verifier.clone(),
            headers(&[&format!("Bearer {token} extra")]),
            plain.clone()
        )
        .await,
        Err(ErrorKind::InvalidRequest)
    );
    let two = [format!("Bearer {token}"), format!("Bearer {token}")];
    assert_eq!(
        run(
            verifier.clone(),
            headers(&[&two[0], &two[1]]),
            plain.clone()
        )
        .await,
        Err(ErrorKind::InvalidRequest)
    );
    // Query tokens: not a credential by default; opt-in; never together with a header.
    assert_eq!(
        run(verifier.clone(), headers(&[]), with_query.clone()).await,
        Err(ErrorKind::MissingCredentials)
    );
    let opted_in = issuer
        .verifier_config()
        .allow_query_token(true)
        .build()
        .expect("config");
    assert_eq!(
        run(opted_in.clone(), headers(&[]), with_query.clone()).await,
        Ok(())
    );
    assert_eq!(
        run(opted_in, headers(&[&format!("Bearer {token}")]), with_query).await,
        Err(ErrorKind::InvalidRequest)
    );
}

#[tokio::test]
async fn verified_token_exposes_claims() {
    #[derive(serde::Deserialize)]
    struct Custom {
        #[serde(rename = "https://retail.example/tier")]
        tier: String,
    }
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let token = issuer
        .token()
        .subject("auth0|ivy")
        .claim("azp", "spa-client")
        .claim("jti", "j-1")
        .claim("https://retail.example/tier", "gold")
        .sign();
    let verified = verifier.verify(&token).await.expect("valid");
    assert_eq!(verified.subject(), Some("auth0|ivy"));
    assert_eq!(verified.client_id(), Some("spa-client"));
    assert_eq!(verified.token_id(), Some("j-1"));
    assert_eq!(verified.issuer(), issuer.issuer());
    assert_eq!(
        verified.audiences().collect::<Vec<_>>(),
        [issuer.audience()]
    );
    assert!(!verified.is_machine());
    assert_eq!(
        verified
            .deserialize_claims::<Custom>()
            .expect("custom")
            .tier,
        "gold"
    );
}

#[tokio::test]
async fn optional_mode_passes_requests_without_credentials_only() {
    use scopegate_core::{AuthMode, Outcome};
    let issuer = issuer();
    let verifier = issuer.verifier().expect("config");
    let none: [&[u8]; 0] = [];
    assert!(matches!(
        verifier.authenticate_now(none, None, AuthMode::Optional),
        Outcome::Anonymous
    ));
    let required = verifier.authenticate_now(none, None, AuthMode::Required);
    assert!(matches!(required, Outcome::Rejected(e) if e.kind() == ErrorKind::MissingCredentials));
    let basic: [&[u8]; 1] = [b"Basic dXNlcjpwdw=="];
    assert!(matches!(
        verifier.authenticate_now(basic, None, AuthMode::Optional),
        Outcome::Anonymous
    ));
    let expired = format!("Bearer {}", issuer.token().expired().sign());
    let outcome = verifier.authenticate_now([expired.as_bytes()], None, AuthMode::Optional);
    assert!(matches!(outcome, Outcome::Rejected(e) if e.kind() == ErrorKind::Expired));
    let malformed: [&[u8]; 1] = [b"Bearer a b"];
    let outcome = verifier.authenticate_now(malformed, None, AuthMode::Optional);
    assert!(matches!(outcome, Outcome::Rejected(e) if e.kind() == ErrorKind::InvalidRequest));
    let valid = format!("Bearer {}", issuer.token().sign());
    let outcome = verifier.authenticate_now([valid.as_bytes()], None, AuthMode::Optional);
    assert!(matches!(outcome, Outcome::Authenticated(_)));
}
