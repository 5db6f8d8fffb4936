//! DPoP proof parsing and checking, through the verifier as an adapter calls it, with a
//! bound access token and a fixed clock.
//!
//! The first byte picks what the rest is:
//! * 0: a whole proof string (nothing can be accepted: the fuzzer holds no key);
//! * 1: `header 0xFF payload`, both raw bytes, signed with the client's ES256 key;
//! * 2: a raw payload under the header a real client writes, signed with that key.
//!
//! The key and token are made per run, so `$JWK` in a header and `$ATH` in a payload are
//! replaced with the client's public JWK and the token's hash: the accepting paths stay
//! reachable from fixed seeds.
//!
//! Whatever is accepted must satisfy RFC 9449 §4.3 as checked here with plain
//! `serde_json` and aws-lc-rs, not with scopegate's parser.
#![no_main]

use std::sync::LazyLock;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Algorithm, AuthMode, Dpop, MemoryReplayStore, Outcome, Verifier};
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const HTU: &str = "http://api.example/api/orders";

struct Fixture {
    client: TestIssuer,
    jwk: String,
    verifier: Verifier,
    authorization: String,
    client_header: Vec<u8>,
    jkt: String,
    ath: String,
}

fn sha256_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, bytes))
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let issuer = TestIssuer::new();
    let client = TestIssuer::with_algorithm(Algorithm::ES256);
    let jwk = client.public_jwk().expect("asymmetric").clone();
    let jkt = sha256_b64(
        format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str().expect("crv"),
            jwk["x"].as_str().expect("x"),
            jwk["y"].as_str().expect("y")
        )
        .as_bytes(),
    );
    let token = issuer
        .token()
        .scope("read:orders")
        .claim("iat", NOW - 10)
        .claim("exp", NOW + 1_000_000)
        .claim("cnf", json!({ "jkt": jkt }))
        .sign();
    let verifier = issuer
        .verifier_config()
        .clock(|| NOW)
        .dpop(Dpop::allowed().replay_store(MemoryReplayStore::new(1_000_000)))
        .build()
        .expect("verifier");
    let client_header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).to_string();
    Fixture {
        jwk: jwk.to_string(),
        ath: sha256_b64(token.as_bytes()),
        authorization: format!("DPoP {token}"),
        client,
        verifier,
        client_header: client_header.into_bytes(),
        jkt,
    }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(proof) = std::str::from_utf8(rest) {
                assert!(
                    !accepted(fixture, proof),
                    "a proof nobody signed was accepted"
                );
            }
        }
        1 => {
            let (header, payload) = match rest.iter().position(|&b| b == 0xFF) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &b"{}"[..]),
            };
            check(fixture, header, payload);
        }
        _ => check(fixture, &fixture.client_header, rest),
    }
});

fn accepted(fixture: &Fixture, proof: &str) -> bool {
    let outcome = fixture.verifier.authenticate_http_now(
        None,
        |name| match name {
            "authorization" => vec![fixture.authorization.as_bytes()],
            "dpop" => vec![proof.as_bytes()],
            "host" => vec![&b"api.example"[..]],
            _ => Vec::new(),
        },
        "GET",
        "/api/orders",
        AuthMode::Required,
    );
    matches!(outcome, Outcome::Authenticated(_))
}

/// `bytes` with every `placeholder` replaced by `value`.
fn substitute(bytes: &[u8], placeholder: &[u8], value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest
        .windows(placeholder.len())
        .position(|w| w == placeholder)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(value.as_bytes());
        rest = &rest[at + placeholder.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Signs `header.payload` with the client key; an accepted proof must meet every rule.
fn check(fixture: &Fixture, header: &[u8], payload: &[u8]) {
    let header = substitute(header, b"$JWK", &fixture.jwk);
    let payload = substitute(payload, b"$ATH", &fixture.ath);
    let (header, payload) = (header.as_slice(), payload.as_slice());
    let proof = fixture.client.sign_raw(header, payload);
    if !accepted(fixture, &proof) {
        return;
    }
    let header: Value = serde_json::from_slice(header).expect("accepted header is JSON");
    assert!(
        header["typ"]
            .as_str()
            .is_some_and(|typ| typ.eq_ignore_ascii_case("dpop+jwt")),
        "accepted typ {:?}",
        header["typ"]
    );
    assert_eq!(header["alg"], "ES256", "accepted alg {:?}", header["alg"]);
    assert!(header.get("crit").is_none(), "accepted a crit header");
    let jwk = &header["jwk"];
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(
            jwk.get(private).is_none(),
            "accepted a private jwk member {private}"
        );
    }
    let thumbprint = sha256_b64(
        format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str().unwrap_or_default(),
            jwk["x"].as_str().unwrap_or_default(),
            jwk["y"].as_str().unwrap_or_default()
        )
        .as_bytes(),
    );
    assert_eq!(
        thumbprint, fixture.jkt,
        "accepted a key the token is not bound to"
    );

    let claims: Value = serde_json::from_slice(payload).expect("accepted payload is JSON");
    assert_eq!(claims["htm"], "GET");
    let htu = claims["htu"].as_str().expect("accepted htu is a string");
    let lower = htu.to_ascii_lowercase();
    assert!(
        lower.starts_with("http://api.example") && lower.contains("/api/"),
        "accepted htu {htu:?} for {HTU}"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()),
        "accepted jti"
    );
    let iat = claims["iat"].as_u64().expect("accepted iat is an integer");
    // Default lifetime 60 s and leeway 5 s; a margin keeps this independent of both.
    assert!(iat <= NOW + 60 && iat + 600 >= NOW, "accepted iat {iat}");
    assert_eq!(claims["ath"], fixture.ath, "accepted another token's ath");
}
