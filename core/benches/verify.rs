//! Costs of the per-request work: verification (uncached, cached), scope checks and
//! credentials parsing, next to the raw aws-lc RSA verification they build on.
//!
//! `cargo bench -p scopegate-core --bench verify`

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use scopegate_core::bearer::extract_bearer;
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{
    Algorithm, AuthMode, Dpop, MemoryReplayStore, Outcome, Requirement, ScopeSet,
};

fn verification(c: &mut Criterion) {
    let issuer = TestIssuer::new();
    let token = issuer
        .token()
        .subject("auth0|6543a1f2b3c4d5e6f7a8b9c0")
        .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
        .scope("openid profile email read:orders read:products write:products")
        .sign();
    let uncached = issuer
        .verifier_config()
        .token_cache(0)
        .build()
        .expect("verifier");
    let cached = issuer.verifier().expect("verifier");
    assert!(matches!(cached.verify_now(&token), Some(Ok(_))));

    // The floor: aws-lc's RSA PKCS#1 v1.5 SHA-256 check of the same signature, with the key
    // built from its components per call (as jsonwebtoken does) and parsed once.
    let jwk = issuer.public_jwk().expect("jwk");
    let component = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("component"))
            .expect("base64")
    };
    let (n, e) = (component("n"), component("e"));
    let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64");
    let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
    let raw: &'static aws_lc_rs::signature::RsaParameters =
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;

    let spki =
        aws_lc_rs::encoding::AsDer::as_der(&aws_lc_rs::rsa::PublicKeyComponents { n: &n, e: &e })
            .expect("der");
    let parsed = aws_lc_rs::signature::ParsedPublicKey::new(raw, spki.as_ref()).expect("key");
    let input = signing_input.as_bytes();

    let mut group = c.benchmark_group("verify");
    group.bench_function("raw_aws_lc_rsa_pkcs1_sha256", |b| {
        b.iter(|| {
            public
                .verify(
                    raw,
                    black_box(signing_input.as_bytes()),
                    black_box(&signature),
                )
                .expect("valid")
        })
    });
    group.bench_function("raw_aws_lc_rsa_pkcs1_sha256_parsed_key", |b| {
        b.iter(|| {
            parsed
                .verify_sig(black_box(input), black_box(&signature))
                .expect("valid")
        })
    });
    group.bench_function("rs256_uncached", |b| {
        b.iter(|| {
            uncached
                .verify_now(black_box(&token))
                .expect("keys at hand")
                .expect("valid")
        })
    });
    group.bench_function("rs256_cached", |b| {
        b.iter(|| {
            cached
                .verify_now(black_box(&token))
                .expect("keys at hand")
                .expect("valid")
        })
    });
    group.finish();
}

fn scopes_and_credentials(c: &mut Criterion) {
    let granted = ScopeSet::from_space_delimited(
        "openid profile email read:orders read:products write:products",
    );
    let all = Requirement::all(["read:orders", "write:products"]).expect("requirement");
    let missing = Requirement::all(["delete:analytics"]).expect("requirement");
    c.bench_function("scope_check/all_of_two_granted", |b| {
        b.iter(|| black_box(&all).is_satisfied_by(black_box(&granted)))
    });
    c.bench_function("scope_check/missing", |b| {
        b.iter(|| black_box(&missing).is_satisfied_by(black_box(&granted)))
    });

    let token = TestIssuer::new().token().sign();
    let header = format!("Bearer {token}");
    c.bench_function("credentials/bearer_header", |b| {
        b.iter(|| {
            extract_bearer([black_box(header.as_bytes())], None, false)
                .expect("bearer")
                .len()
        })
    });
}

/// One request through `authenticate_http_now`, as an adapter makes it: a bearer token,
/// and a DPoP-bound token with a fresh ES256 proof, both tokens cached. Proofs are signed
/// outside the measured part.
fn dpop(c: &mut Criterion) {
    let issuer = TestIssuer::new();
    let client = TestIssuer::with_algorithm(Algorithm::ES256);
    let jwk = client.public_jwk().expect("jwk").clone();
    let canonical = format!(
        r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().expect("crv"),
        jwk["x"].as_str().expect("x"),
        jwk["y"].as_str().expect("y")
    );
    let sha256 = |bytes: &[u8]| {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
    };
    let jkt = sha256(canonical.as_bytes());
    let scope = "openid profile email read:orders read:products write:products";
    let bearer = issuer
        .token()
        .subject("auth0|6543a1f2b3c4d5e6f7a8b9c0")
        .scope(scope)
        .sign();
    let bound = issuer
        .token()
        .subject("auth0|6543a1f2b3c4d5e6f7a8b9c0")
        .scope(scope)
        .claim("cnf", serde_json::json!({ "jkt": jkt }))
        .sign();
    let verifier = issuer
        .verifier_config()
        .dpop(Dpop::allowed().replay_store(MemoryReplayStore::new(20_000_000)))
        .build()
        .expect("verifier");
    let ath = sha256(bound.as_bytes());
    let next = std::cell::Cell::new(0u64);
    let proof = || {
        next.set(next.get() + 1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let claims = serde_json::json!({
            "jti": format!("bench-{}", next.get()),
            "htm": "GET",
            "htu": "http://api.example/api/orders",
            "iat": now,
            "ath": ath,
        });
        client.sign_raw(header.to_string().as_bytes(), claims.to_string().as_bytes())
    };
    let bearer_header = format!("Bearer {bearer}");
    let dpop_header = format!("DPoP {bound}");
    let request = |authorization: &str, proof: Option<&str>| {
        let outcome = verifier.authenticate_http_now(
            None,
            |name| match name {
                "authorization" => vec![authorization.as_bytes()],
                "dpop" => proof.map(str::as_bytes).into_iter().collect(),
                "host" => vec![&b"api.example"[..]],
                _ => Vec::new(),
            },
            "GET",
            "/api/orders",
            AuthMode::Required,
        );
        assert!(matches!(outcome, Outcome::Authenticated(_)), "{outcome:?}");
    };
    // Warm the token cache for both tokens.
    request(&bearer_header, None);
    request(&dpop_header, Some(&proof()));

    // The floor: aws-lc's ES256 check of one proof's signature, key parsed once.
    let sample = proof();
    let (proof_input, proof_signature) = sample.rsplit_once('.').expect("three parts");
    let proof_signature = URL_SAFE_NO_PAD.decode(proof_signature).expect("base64");
    let point = [
        &[4u8][..],
        &URL_SAFE_NO_PAD
            .decode(jwk["x"].as_str().expect("x"))
            .expect("x"),
        &URL_SAFE_NO_PAD
            .decode(jwk["y"].as_str().expect("y"))
            .expect("y"),
    ]
    .concat();
    let ec_key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        point,
    );

    let mut group = c.benchmark_group("request");
    group.bench_function("raw_aws_lc_es256", |b| {
        b.iter(|| {
            ec_key
                .verify(
                    black_box(proof_input.as_bytes()),
                    black_box(&proof_signature),
                )
                .expect("valid")
        })
    });
    group.bench_function("bearer_cached_token", |b| {
        b.iter(|| request(black_box(&bearer_header), None))
    });
    group.bench_function("dpop_cached_token_es256_proof", |b| {
        b.iter_batched(
            proof,
            |proof| request(black_box(&dpop_header), Some(&proof)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, verification, scopes_and_credentials, dpop);
criterion_main!(benches);
