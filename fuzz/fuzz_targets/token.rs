//! Token parsing and verification against fixed keys.
//!
//! The first byte picks what the rest is:
//! * 0: a whole token string, verified against an RS256 and an HS256 verifier (nothing
//!   can be accepted: the fuzzer holds no key);
//! * 1: `header 0xFF payload`, both raw bytes, signed with the HS256 key, so header and
//!   claim parsing are reached past the signature check;
//! * 2: a raw payload under the header a real issuer writes, signed with the HS256 key.
//!
//! Whatever is accepted must satisfy the rules independently checked here.
#![no_main]

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Algorithm, VerifiedToken, Verifier};
use serde_json::Value;

struct Fixture {
    hs: TestIssuer,
    hs_verifier: Verifier,
    rs_verifier: Verifier,
    issued_header: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let hs = TestIssuer::with_algorithm(Algorithm::HS256);
    let rs = TestIssuer::new();
    // The cache is off so that every input is parsed and checked.
    let hs_verifier = hs
        .verifier_config()
        .token_cache(0)
        .build()
        .expect("HS256 verifier");
    let rs_verifier = rs
        .verifier_config()
        .token_cache(0)
        .build()
        .expect("RS256 verifier");
    let sample = hs.token().sign();
    let encoded = sample.split('.').next().expect("header segment");
    let issued_header = URL_SAFE_NO_PAD.decode(encoded).expect("base64url header");
    Fixture {
        hs,
        hs_verifier,
        rs_verifier,
        issued_header,
    }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else {
                return;
            };
            for verifier in [&fixture.hs_verifier, &fixture.rs_verifier] {
                let result = verifier.verify_now(token).expect("static keys decide now");
                assert!(result.is_err(), "a token nobody signed was accepted");
            }
        }
        1 => {
            let (header, payload) = match rest.iter().position(|&b| b == 0xFF) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &b"{}"[..]),
            };
            check(fixture, header, payload);
        }
        _ => check(fixture, &fixture.issued_header, rest),
    }
});

/// Signs `header.payload` with the HS256 key and verifies it; an accepted token must
/// meet every rule, checked here without scopegate's own parser.
fn check(fixture: &Fixture, header: &[u8], payload: &[u8]) {
    let token = fixture.hs.sign_raw(header, payload);
    let result = fixture
        .hs_verifier
        .verify_now(&token)
        .expect("static keys decide now");
    if let Ok(verified) = result {
        accepted_token_is_valid(fixture, header, payload, &verified);
    }
}

fn accepted_token_is_valid(
    fixture: &Fixture,
    header: &[u8],
    payload: &[u8],
    token: &VerifiedToken,
) {
    let header: Value = serde_json::from_slice(header).expect("accepted header is JSON");
    assert_eq!(header["alg"], "HS256", "accepted alg {:?}", header["alg"]);
    assert!(header.get("crit").is_none(), "accepted a crit header");

    let claims: Value = serde_json::from_slice(payload).expect("accepted payload is JSON");
    assert_eq!(claims["iss"], fixture.hs.issuer());
    assert_eq!(token.issuer(), fixture.hs.issuer());
    let audience = fixture.hs.audience();
    let aud_ok = match &claims["aud"] {
        Value::String(aud) => aud == audience,
        Value::Array(auds) => auds.iter().any(|a| a == audience),
        _ => false,
    };
    assert!(aud_ok, "accepted aud {:?}", claims["aud"]);
    // I-JSON (RFC 7493 §2.2): NumericDates stay within 2^53 - 1.
    let max_numeric_date = (1u64 << 53) - 1;
    let exp = claims["exp"]
        .as_u64()
        .expect("accepted exp is a non-negative integer");
    assert!(exp <= max_numeric_date, "accepted exp {exp}");
    assert_eq!(token.expires_at(), exp);
    if let Some(iat) = claims.get("iat") {
        let iat = iat
            .as_u64()
            .expect("accepted iat is a non-negative integer");
        assert!(iat <= max_numeric_date, "accepted iat {iat}");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    // Default leeway is small; an hour of slack keeps this independent of it.
    assert!(exp + 3600 > now, "accepted a token expired at {exp}");
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_u64()
            .expect("accepted nbf is a non-negative integer");
        assert!(nbf <= now + 3600, "accepted a token valid only from {nbf}");
        assert!(nbf <= max_numeric_date, "accepted nbf {nbf}");
    }
}
