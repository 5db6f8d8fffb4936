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
use scopegate_core::{Requirement, ScopeSet};

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

criterion_group!(benches, verification, scopes_and_credentials);
criterion_main!(benches);
