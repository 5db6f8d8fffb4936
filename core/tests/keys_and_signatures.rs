//! Header, key and signature rules, with real tokens signed by `TestIssuer` for every
//! supported key family.

use jsonwebtoken::{EncodingKey, crypto};
use scopegate_core::test_util::TestIssuer;
use scopegate_core::{
    Algorithm, ConfigError, ErrorKind, KeyError, KeySet, VerificationKey, Verifier, VerifierConfig,
};
use serde_json::json;

async fn verify(verifier: &Verifier, token: &str) -> Result<(), ErrorKind> {
    verifier.verify(token).await.map(drop).map_err(|e| e.kind())
}

const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::HS256,
    Algorithm::HS512,
];

#[tokio::test]
async fn every_algorithm_verifies_its_own_tokens_and_rejects_another_keys() {
    for alg in ALGORITHMS {
        let issuer = TestIssuer::with_algorithm(alg);
        let verifier = issuer.verifier().expect("config");
        let token = issuer.token().scope("read:orders").sign();
        let verified = verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(verified.algorithm(), alg);
        assert!(verified.has_scope("read:orders"));

        // Same algorithm and kid, different key: the signature must fail.
        let impostor = TestIssuer::with_algorithm(alg);
        assert_eq!(
            verify(&verifier, &impostor.token().sign()).await,
            Err(ErrorKind::InvalidSignature),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn tampered_payload_or_signature_fails() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("config");
    let token = issuer.token().scope("read:orders").sign();
    let (input, _) = token.rsplit_once('.').expect("three parts");
    let forged_payload = issuer.token().scope("read:orders write:orders").sign();
    let forged_payload = forged_payload.split('.').nth(1).expect("payload");
    let header = input.split('.').next().expect("header");
    let signature = token.rsplit('.').next().expect("signature");
    let tampered = format!("{header}.{forged_payload}.{signature}");
    assert_eq!(
        verify(&verifier, &tampered).await,
        Err(ErrorKind::InvalidSignature)
    );
    let mut sig = signature.to_owned();
    sig.replace_range(..2, if sig.starts_with("AA") { "BB" } else { "AA" });
    assert_eq!(
        verify(&verifier, &format!("{input}.{sig}")).await,
        Err(ErrorKind::InvalidSignature)
    );
    assert_eq!(
        verify(
            &verifier,
            &format!("{input}.{}", &signature[..signature.len() / 2])
        )
        .await,
        Err(ErrorKind::InvalidSignature)
    );
}

/// Degenerate signatures for a verifier that allows the algorithm and holds the right key:
/// the "psychic signature" family (CVE-2022-21449: r = s = 0 accepted by a broken ECDSA
/// check), values at or above the curve order, DER instead of the fixed-size JWS form, and
/// all-zero or all-ones EdDSA signatures.
#[tokio::test]
async fn psychic_and_degenerate_signatures_fail() {
    // The group orders of P-256 and P-384 (SEC 2), big-endian.
    const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf\
                          581a0db248b0a77aecec196accc52973";
    for (alg, order) in [
        (Algorithm::ES256, hex_decode(P256_N)),
        (Algorithm::ES384, hex_decode(P384_N)),
        (Algorithm::EdDSA, Vec::new()),
    ] {
        let issuer = TestIssuer::with_algorithm(alg);
        let verifier = issuer.verifier().expect("config");
        let token = issuer.token().scope("read:orders").sign();
        assert_eq!(verify(&verifier, &token).await, Ok(()), "{alg}: genuine");
        let (input, genuine) = token.rsplit_once('.').expect("three parts");
        let size = if alg == Algorithm::EdDSA {
            64
        } else {
            2 * order.len()
        };
        assert_eq!(base64_decode(genuine).len(), size, "{alg}: signature size");

        let mut signatures = vec![
            ("zeros", vec![0u8; size]),
            ("ones", vec![0xff; size]),
            (
                "DER r = s = 0",
                vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00],
            ),
        ];
        if !order.is_empty() {
            let half = order.len();
            let mut one = vec![0u8; half];
            one[half - 1] = 1;
            signatures.push(("r = s = n", [order.clone(), order.clone()].concat()));
            signatures.push(("r = 1, s = 0", [one.clone(), vec![0u8; half]].concat()));
            signatures.push(("r = 0, s = 1", [vec![0u8; half], one].concat()));
            signatures.push(("r = n, s = genuine", {
                let genuine = base64_decode(genuine);
                [order.clone(), genuine[half..].to_vec()].concat()
            }));
        }
        for (name, signature) in signatures {
            assert_eq!(
                verify(&verifier, &format!("{input}.{}", base64_url(&signature))).await,
                Err(ErrorKind::InvalidSignature),
                "{alg}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn alg_allow_list_comes_from_configuration_only() {
    // A valid ES256 token is refused by a verifier that allows only RS256, even with the key.
    let es = TestIssuer::with_algorithm(Algorithm::ES256);
    let verifier = es
        .verifier_config()
        .algorithms([Algorithm::RS256])
        .build()
        .expect("config");
    assert_eq!(
        verify(&verifier, &es.token().sign()).await,
        Err(ErrorKind::DisallowedAlgorithm)
    );

    let rs = TestIssuer::new();
    let verifier = rs.verifier().expect("config");
    for alg in [
        "none", "None", "NONE", "nOnE", "HS256", "RS384", "rs256", "",
    ] {
        let token = rs.token().header("alg", alg).sign();
        assert_eq!(
            verify(&verifier, &token).await,
            Err(ErrorKind::DisallowedAlgorithm),
            "{alg:?}"
        );
    }
    // Unsigned `none` tokens have an empty signature segment.
    let unsigned = rs.token().header("alg", "none").sign();
    let (input, _) = unsigned.rsplit_once('.').expect("three parts");
    assert_eq!(
        verify(&verifier, &format!("{input}.")).await,
        Err(ErrorKind::MalformedToken)
    );
}

#[test]
fn hmac_algorithms_need_an_explicit_secret() {
    let rs = TestIssuer::new();
    let err = rs
        .verifier_config()
        .algorithms([Algorithm::RS256, Algorithm::HS256])
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::HmacWithoutSecret);
}

#[tokio::test]
async fn rsa_public_key_used_as_hmac_secret_is_refused() {
    let rs = TestIssuer::new();
    let jwk = rs.public_jwk().expect("rsa jwk");
    let forge = |alg_kid: serde_json::Value| {
        let header = serde_json::to_vec(&alg_kid).expect("json");
        let payload =
            serde_json::to_vec(rs.token().scope("write:products").claims()).expect("json");
        let b64 = |b: &[u8]| base64_url(b);
        let input = format!("{}.{}", b64(&header), b64(&payload));
        // The classic confusion attack: HMAC keyed with the public key's bytes.
        let secret = jwk.to_string();
        let sig = crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(secret.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )
        .expect("hmac");
        format!("{input}.{sig}")
    };
    // Default verifier: HS256 is not allowed at all.
    let verifier = rs.verifier().expect("config");
    assert_eq!(
        verify(&verifier, &forge(json!({"alg": "HS256", "kid": rs.kid()}))).await,
        Err(ErrorKind::DisallowedAlgorithm)
    );

    // Even with HS256 allowed (its own secret configured), the RSA key never serves HMAC.
    let keys = rs
        .key_set()
        .with_key(VerificationKey::hmac_secret([9u8; 32]).expect("secret"));
    let verifier = rs
        .verifier_config()
        .algorithms([Algorithm::RS256, Algorithm::HS256])
        .keys(keys)
        .build()
        .expect("config");
    assert_eq!(
        verify(&verifier, &forge(json!({"alg": "HS256", "kid": rs.kid()}))).await,
        Err(ErrorKind::KeyMismatch)
    );
    assert_eq!(
        verify(&verifier, &forge(json!({"alg": "HS256"}))).await,
        Err(ErrorKind::InvalidSignature)
    );
    // and the RS256 token still verifies alongside
    assert_eq!(verify(&verifier, &rs.token().sign()).await, Ok(()));
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

#[tokio::test]
async fn key_is_chosen_by_kid_and_must_fit_the_algorithm() {
    let rs = TestIssuer::new().with_kid("rsa-1");
    let es = TestIssuer::with_algorithm(Algorithm::ES256).with_kid("ec-1");
    let keys = rs
        .key_set()
        .with_key(es.key_set().iter().next().expect("key").clone());
    let verifier = VerifierConfig::new(rs.issuer(), rs.audience())
        .algorithms([Algorithm::RS256, Algorithm::ES256])
        .keys(keys)
        .build()
        .expect("config");
    assert_eq!(verify(&verifier, &rs.token().sign()).await, Ok(()));
    assert_eq!(verify(&verifier, &es.token().sign()).await, Ok(()));
    // Unknown kid.
    assert_eq!(
        verify(&verifier, &rs.token().header("kid", "rsa-2").sign()).await,
        Err(ErrorKind::UnknownKey)
    );
    // kid of the EC key on an RS256 token: the key type disagrees with alg.
    assert_eq!(
        verify(&verifier, &rs.token().header("kid", "ec-1").sign()).await,
        Err(ErrorKind::KeyMismatch)
    );
    // A kid that is not a string.
    assert_eq!(
        verify(&verifier, &rs.token().header("kid", 7).sign()).await,
        Err(ErrorKind::MalformedToken)
    );
}

#[tokio::test]
async fn without_kid_exactly_one_compatible_key_is_used() {
    let rs = TestIssuer::new();
    let other = TestIssuer::new().with_kid("other");
    let es = TestIssuer::with_algorithm(Algorithm::ES256).with_kid("ec");
    let no_kid = rs.token().without_header("kid").sign();

    // One RSA key among keys of other types: used.
    let keys = rs
        .key_set()
        .with_key(es.key_set().iter().next().expect("key").clone());
    let verifier = rs
        .verifier_config()
        .algorithms([Algorithm::RS256, Algorithm::ES256])
        .keys(keys)
        .build()
        .expect("config");
    assert_eq!(verify(&verifier, &no_kid).await, Ok(()));

    // Two RSA keys: ambiguous, rejected even though one would verify.
    let keys = rs
        .key_set()
        .with_key(other.key_set().iter().next().expect("key").clone());
    let verifier = rs.verifier_config().keys(keys).build().expect("config");
    assert_eq!(verify(&verifier, &no_kid).await, Err(ErrorKind::UnknownKey));

    // No compatible key at all.
    let verifier = rs
        .verifier_config()
        .algorithms([Algorithm::ES256])
        .keys(es.key_set())
        .build()
        .expect("config");
    let es_no_kid_rs_alg = rs
        .token()
        .without_header("kid")
        .header("alg", "ES256")
        .sign();
    assert_eq!(
        verify(&verifier, &es_no_kid_rs_alg).await,
        Err(ErrorKind::InvalidSignature)
    );
    let verifier = rs
        .verifier_config()
        .keys(es.key_set())
        .build()
        .expect("config");
    assert_eq!(verify(&verifier, &no_kid).await, Err(ErrorKind::UnknownKey));
}

#[tokio::test]
async fn jwk_use_and_alg_restrict_a_key() {
    let rs = TestIssuer::new();
    let token = rs.token().sign();
    let mut jwk = rs.public_jwk().expect("jwk").clone();

    jwk["use"] = json!("enc");
    assert_eq!(
        KeySet::from_jwks(&json!({"keys": [jwk]}).to_string()).err(),
        Some(KeyError::NoUsableKey)
    );

    jwk["use"] = json!("sig");
    jwk["alg"] = json!("RS512");
    let keys = KeySet::from_jwks(&json!({"keys": [jwk]}).to_string()).expect("usable for RS512");
    let verifier = rs
        .verifier_config()
        .algorithms([Algorithm::RS256, Algorithm::RS512])
        .keys(keys)
        .build()
        .expect("config");
    assert_eq!(verify(&verifier, &token).await, Err(ErrorKind::KeyMismatch));

    jwk["alg"] = json!("RS256");
    jwk["key_ops"] = json!(["encrypt"]);
    assert_eq!(
        KeySet::from_jwks(&json!({"keys": [jwk]}).to_string()).err(),
        Some(KeyError::NoUsableKey)
    );
    jwk["key_ops"] = json!(["verify"]);
    let keys = KeySet::from_jwks(&json!({"keys": [jwk]}).to_string()).expect("usable");
    let verifier = rs.verifier_config().keys(keys).build().expect("config");
    assert_eq!(verify(&verifier, &token).await, Ok(()));

    // An EC key declaring an RSA algorithm is unusable.
    let mut ec = TestIssuer::with_algorithm(Algorithm::ES256)
        .public_jwk()
        .expect("jwk")
        .clone();
    ec["alg"] = json!("RS256");
    assert!(matches!(
        VerificationKey::from_jwk(&ec),
        Err(KeyError::Unusable(_))
    ));
}

/// A real 1024-bit RSA modulus (public key only; generated for this test).
const RSA_1024_N: &str = "916TeoU2tAPmHu3Ei0CWLOTigLPimC0VZ9muVurtUoS_WTHISqqcoS4WKkbHyD8THdSnbpWPagwbaIdGWVxbng8VSUATlkeLux1gObStib4a9J32h7Gi965f1ATzyGxvAKLH2i15iRUWQhpp0vXb6HsFwjl88f6Fop9ABWuo9uM";
const RSA_1024_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQD3XpN6hTa0A+Ye7cSLQJYs5OKA
s+KYLRVn2a5W6u1ShL9ZMchKqpyhLhYqRsfIPxMd1KdulY9qDBtoh0ZZXFueDxVJ
QBOWR4u7HWA5tK2Jvhr0nfaHsaL3rl/UBPPIbG8AosfaLXmJFRZCGmnS9dvoewXC
OXzx/oWin0AFa6j24wIDAQAB
-----END PUBLIC KEY-----
";

#[test]
fn rsa_keys_under_2048_bits_are_never_used() {
    let weak = json!({"kty": "RSA", "kid": "weak", "n": RSA_1024_N, "e": "AQAB"});
    assert_eq!(
        VerificationKey::from_jwk(&weak).err(),
        Some(KeyError::WeakRsaKey)
    );
    assert_eq!(
        VerificationKey::from_pem(RSA_1024_PEM).err(),
        Some(KeyError::WeakRsaKey)
    );
    // In a JWKS, the weak key is skipped and the strong one kept.
    let strong = TestIssuer::new().public_jwk().expect("jwk").clone();
    let keys =
        KeySet::from_jwks(&json!({"keys": [weak, strong]}).to_string()).expect("one usable key");
    assert_eq!(keys.len(), 1);
    assert!(!keys.contains_kid("weak"));
}

#[test]
fn jwks_oct_keys_are_never_used() {
    let oct = json!({"kty": "oct", "kid": "shared", "k": base64_url(&[1u8; 64]), "alg": "HS256"});
    assert!(matches!(
        VerificationKey::from_jwk(&oct),
        Err(KeyError::Unusable(_))
    ));
    let strong = TestIssuer::new().public_jwk().expect("jwk").clone();
    let keys =
        KeySet::from_jwks(&json!({"keys": [oct, strong]}).to_string()).expect("one usable key");
    assert_eq!(keys.len(), 1);
    assert!(!keys.contains_kid("shared"));
}

#[tokio::test]
async fn pem_public_keys_verify_tokens() {
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::with_algorithm(alg);
        let decoding = jsonwebtoken::DecodingKey::from_jwk(
            &serde_json::from_value(issuer.public_jwk().expect("jwk").clone()).expect("jwk"),
        )
        .expect("key");
        let pem = spki_pem(alg, &decoding);
        let key = VerificationKey::from_pem(&pem).unwrap_or_else(|e| panic!("{alg}: {e}"));
        let verifier = issuer.verifier_config().keys(key).build().expect("config");
        assert_eq!(
            verify(&verifier, &issuer.token().without_header("kid").sign()).await,
            Ok(()),
            "{alg}"
        );
    }
    assert!(
        VerificationKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .is_err()
    );
}

/// Re-encodes a public key as a SubjectPublicKeyInfo PEM, as an IdP would publish it.
fn spki_pem(alg: Algorithm, key: &jsonwebtoken::DecodingKey) -> String {
    use aws_lc_rs::encoding::AsDer;
    let der: Vec<u8> = match (alg, key.kind()) {
        (Algorithm::RS256, jsonwebtoken::DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let public = rsa_public_from_components(n, e);
            public.as_der().expect("der").as_ref().to_vec()
        }
        (
            Algorithm::ES256 | Algorithm::ES384,
            jsonwebtoken::DecodingKeyKind::SecretOrDer(point),
        ) => {
            let prefix: &[u8] = if alg == Algorithm::ES256 {
                &hex_decode("3059301306072a8648ce3d020106082a8648ce3d030107034200")
            } else {
                &hex_decode("3076301006072a8648ce3d020106052b81040022036200")
            };
            [prefix, point].concat()
        }
        (Algorithm::EdDSA, jsonwebtoken::DecodingKeyKind::SecretOrDer(point)) => {
            [&hex_decode("302a300506032b6570032100")[..], point].concat()
        }
        _ => unreachable!("unexpected key kind"),
    };
    pem::encode(&pem::Pem::new("PUBLIC KEY", der))
}

fn rsa_public_from_components(n: &[u8], e: &[u8]) -> aws_lc_rs::rsa::PublicKey {
    // DER RSAPublicKey ::= SEQUENCE { n INTEGER, e INTEGER }
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let mut body = bytes.to_vec();
        if body[0] & 0x80 != 0 {
            body.insert(0, 0);
        }
        [vec![0x02], der_len(body.len()), body].concat()
    }
    let body = [integer(n), integer(e)].concat();
    let der = [vec![0x30], der_len(body.len()), body].concat();
    aws_lc_rs::rsa::PublicKey::from_der(&der).expect("rsa public key")
}

fn der_len(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn embedded_keys_in_the_header_are_ignored() {
    let legit = TestIssuer::new();
    let attacker = TestIssuer::new().with_kid("attacker");
    let verifier = legit.verifier().expect("config");
    let attacker_jwk = attacker.public_jwk().expect("jwk").clone();
    let forged = attacker
        .token()
        .header("jwk", attacker_jwk.clone())
        .header("jku", "http://127.0.0.1:1/jwks.json")
        .header("x5u", "http://127.0.0.1:1/cert.pem")
        .header("x5c", json!(["MIIB"]))
        .sign();
    assert_eq!(verify(&verifier, &forged).await, Err(ErrorKind::UnknownKey));
    let forged_legit_kid = attacker
        .token()
        .header("kid", legit.kid())
        .header("jwk", attacker_jwk)
        .sign();
    assert_eq!(
        verify(&verifier, &forged_legit_kid).await,
        Err(ErrorKind::InvalidSignature)
    );
    // The same parameters on a genuine token change nothing.
    let genuine = legit
        .token()
        .header("jku", "http://127.0.0.1:1/jwks.json")
        .header("x5u", "x")
        .sign();
    assert_eq!(verify(&verifier, &genuine).await, Ok(()));
}

#[tokio::test]
async fn crit_header_is_rejected() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier().expect("config");
    for crit in [json!(["exp"]), json!([]), json!(["b64"])] {
        let token = issuer
            .token()
            .header("crit", crit.clone())
            .header("exp", 1)
            .sign();
        assert_eq!(
            verify(&verifier, &token).await,
            Err(ErrorKind::CriticalHeader),
            "{crit}"
        );
    }
}
