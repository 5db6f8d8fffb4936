//! Hostile requests (RFC 8725 classes and known JWT CVE families) against both example
//! apps on 127.0.0.1: each gets its exact status and challenge error code, the same from
//! axum and actix; none gets a 2xx or 5xx, and no response echoes what the attacker sent.
//! Oversized tokens (a 64 KB `kid`, 100 000 dots) reach the size cap in both servers.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use scopegate_core::test_util::TestIssuer;
use scopegate_tests::{Idp, Metadata};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://retail.example/api";

/// A symmetric key the issuer's JWKS also publishes (as some issuers do): anyone who reads
/// the JWKS knows it, so it must never verify anything.
const JWKS_OCT_KID: &str = "shared-secret";
const JWKS_OCT_SECRET: &[u8] = b"published-in-the-jwks-for-all-to-read";

/// The issuer's JWKS with the symmetric key added.
fn jwks_with_oct_key(issuer: &TestIssuer) -> Value {
    json!({"keys": [
        issuer.public_jwk().expect("jwk"),
        {"kty": "oct", "kid": JWKS_OCT_KID, "alg": "HS256", "use": "sig", "k": b64(JWKS_OCT_SECRET)},
    ]})
}

/// What a hostile request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// 401 with `error="invalid_token"`.
    InvalidToken,
    /// 400 with `error="invalid_request"`.
    InvalidRequest,
    /// 401 without an error code (not bearer credentials at all).
    NoCredentials,
    /// 403 `insufficient_scope`: a valid token whose scope claim grants nothing usable.
    InsufficientScope,
}

struct Case {
    name: String,
    authorization: Vec<Vec<u8>>,
    want: Want,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HMAC-SHA256 of `input` keyed with `secret`, as an attacker would compute it.
fn hs256(secret: &[u8], input: &str) -> String {
    hmac(aws_lc_rs::hmac::HMAC_SHA256, secret, input)
}

fn hmac(algorithm: aws_lc_rs::hmac::Algorithm, secret: &[u8], input: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(algorithm, secret);
    b64(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref())
}

fn cases(issuer: &TestIssuer, attacker: &TestIssuer) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, value: String, want: Want| {
        cases.push(Case {
            name: name.to_owned(),
            authorization: vec![format!("Bearer {value}").into_bytes()],
            want,
        });
    };
    let good = || issuer.token().scope("read:orders");
    let claims = serde_json::to_string(good().claims()).expect("json");
    let kid = issuer.kid().to_owned();
    let header = |alg: &str| format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#);
    let raw = |h: &str, p: &str| issuer.sign_raw(h.as_bytes(), p.as_bytes());
    let unsigned =
        |h: &str, p: &str, sig: &str| format!("{}.{}.{sig}", b64(h.as_bytes()), b64(p.as_bytes()));
    let valid = good().sign();
    let (valid_input, valid_sig) = valid.rsplit_once('.').expect("three parts");

    // Algorithm attacks.
    for alg in ["none", "None", "NONE", "nOnE"] {
        add(
            &format!("alg {alg}, no signature"),
            unsigned(&header(alg), &claims, ""),
            Want::InvalidToken,
        );
        add(
            &format!("alg {alg}, signature kept"),
            format!(
                "{}.{valid_sig}",
                unsigned(&header(alg), &claims, "").trim_end_matches('.')
            ),
            Want::InvalidToken,
        );
    }
    let public_jwk = issuer.public_jwk().expect("jwk").to_string();
    let input = |alg: &str| {
        unsigned(&header(alg), &claims, "")
            .trim_end_matches('.')
            .to_owned()
    };
    add(
        "HS256 keyed with the RSA public JWK",
        format!(
            "{}.{}",
            input("HS256"),
            hs256(public_jwk.as_bytes(), &input("HS256"))
        ),
        Want::InvalidToken,
    );
    add(
        "HS256 keyed with the modulus",
        format!(
            "{}.{}",
            input("HS256"),
            hs256(
                issuer.public_jwk().expect("jwk")["n"]
                    .as_str()
                    .expect("n")
                    .as_bytes(),
                &input("HS256")
            )
        ),
        Want::InvalidToken,
    );
    add(
        "HS256 keyed with 'secret'",
        format!("{}.{}", input("HS256"), hs256(b"secret", &input("HS256"))),
        Want::InvalidToken,
    );
    let oct_header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{JWKS_OCT_KID}"}}"#);
    let oct_input = unsigned(&oct_header, &claims, "")
        .trim_end_matches('.')
        .to_owned();
    add(
        "HS256 keyed with the JWKS oct key, its kid",
        format!("{oct_input}.{}", hs256(JWKS_OCT_SECRET, &oct_input)),
        Want::InvalidToken,
    );
    add(
        "HS256 keyed with the JWKS oct key, the RSA kid",
        format!(
            "{}.{}",
            input("HS256"),
            hs256(JWKS_OCT_SECRET, &input("HS256"))
        ),
        Want::InvalidToken,
    );
    add(
        "HS256 keyed with the JWKS oct key, no kid",
        {
            let h = r#"{"alg":"HS256","typ":"JWT"}"#;
            let i = unsigned(h, &claims, "").trim_end_matches('.').to_owned();
            format!("{i}.{}", hs256(JWKS_OCT_SECRET, &i))
        },
        Want::InvalidToken,
    );
    add(
        "HS512 keyed with the public JWK",
        format!(
            "{}.{}",
            input("HS512"),
            hmac(
                aws_lc_rs::hmac::HMAC_SHA512,
                public_jwk.as_bytes(),
                &input("HS512")
            )
        ),
        Want::InvalidToken,
    );
    for alg in ["ES256", "PS256", "RS512", "EdDSA", "", "RSA-OAEP", "rs256"] {
        add(
            &format!("alg {alg:?} over an RS256 signature"),
            format!("{}.{valid_sig}", input(alg)),
            Want::InvalidToken,
        );
    }
    for (name, h) in [
        ("alg a number", r#"{"alg":256}"#),
        ("alg an array", r#"{"alg":["RS256"]}"#),
        ("alg missing", r#"{"typ":"JWT"}"#),
        ("alg null", r#"{"alg":null}"#),
    ] {
        add(name, raw(h, &claims), Want::InvalidToken);
    }

    // Signature attacks.
    add(
        "signature stripped",
        format!("{valid_input}."),
        Want::InvalidToken,
    );
    add(
        "signature truncated",
        format!("{valid_input}.{}", &valid_sig[..valid_sig.len() / 2]),
        Want::InvalidToken,
    );
    add(
        "signature of another token",
        format!(
            "{valid_input}.{}",
            good()
                .subject("auth0|other")
                .sign()
                .rsplit('.')
                .next()
                .expect("sig")
        ),
        Want::InvalidToken,
    );
    add(
        "signature all zeros",
        format!("{valid_input}.{}", b64(&[0u8; 256])),
        Want::InvalidToken,
    );
    let mut der = vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
    der.resize(64, 0);
    add(
        "signature DER-shaped r=s=0",
        format!("{valid_input}.{}", b64(&der)),
        Want::InvalidToken,
    );
    add(
        "ES256 psychic signature r=s=0",
        format!("{}.{}", input("ES256"), b64(&[0u8; 64])),
        Want::InvalidToken,
    );
    add(
        "signature padded",
        format!("{valid_input}.{valid_sig}=="),
        Want::InvalidToken,
    );
    add(
        "signature in standard base64",
        format!(
            "{valid_input}.{}",
            STANDARD
                .encode(URL_SAFE_NO_PAD.decode(valid_sig).expect("sig"))
                .trim_end_matches('=')
        ),
        Want::InvalidToken,
    );
    add(
        "signature one bit flipped",
        {
            let mut sig = URL_SAFE_NO_PAD.decode(valid_sig).expect("sig");
            sig[10] ^= 1;
            format!("{valid_input}.{}", b64(&sig))
        },
        Want::InvalidToken,
    );

    // Header attacks.
    add(
        "crit [exp]",
        good().header("crit", json!(["exp"])).sign(),
        Want::InvalidToken,
    );
    add(
        "crit []",
        good().header("crit", json!([])).sign(),
        Want::InvalidToken,
    );
    add(
        "crit b64 false",
        good()
            .header("crit", json!(["b64"]))
            .header("b64", false)
            .sign(),
        Want::InvalidToken,
    );
    let attacker_jwk = attacker.public_jwk().expect("jwk").clone();
    add(
        "embedded jwk of the attacker",
        attacker
            .token()
            .scope("read:orders")
            .header("jwk", attacker_jwk.clone())
            .sign(),
        Want::InvalidToken,
    );
    add(
        "embedded jwk, legit kid",
        attacker
            .token()
            .scope("read:orders")
            .header("kid", kid.as_str())
            .header("jwk", attacker_jwk)
            .sign(),
        Want::InvalidToken,
    );
    add(
        "jku to the attacker",
        attacker
            .token()
            .scope("read:orders")
            .header("jku", "http://127.0.0.1:9/jwks.json")
            .sign(),
        Want::InvalidToken,
    );
    add(
        "x5u to the attacker",
        attacker
            .token()
            .scope("read:orders")
            .header("x5u", "http://127.0.0.1:9/cert.pem")
            .sign(),
        Want::InvalidToken,
    );
    add(
        "x5c of the attacker",
        attacker
            .token()
            .scope("read:orders")
            .header(
                "x5c",
                json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
            )
            .sign(),
        Want::InvalidToken,
    );
    for (name, hostile_kid) in HOSTILE_KIDS {
        add(
            &format!("kid {name}"),
            attacker
                .token()
                .scope("read:orders")
                .header("kid", *hostile_kid)
                .sign(),
            Want::InvalidToken,
        );
    }
    add(
        "kid 64 KB",
        attacker.token().header("kid", "k".repeat(64 * 1024)).sign(),
        Want::InvalidToken,
    );
    add(
        "kid null",
        good().header("kid", Value::Null).sign(),
        Want::InvalidToken,
    );
    add(
        "kid a number",
        good().header("kid", 7).sign(),
        Want::InvalidToken,
    );
    add(
        "typ dpop+jwt",
        good().header("typ", "dpop+jwt").sign(),
        Want::InvalidToken,
    );
    add(
        "typ id_token",
        good().header("typ", "JWT+id_token").sign(),
        Want::InvalidToken,
    );
    add(
        "enc header (JWE)",
        good().header("enc", "A256GCM").sign(),
        Want::InvalidToken,
    );
    add(
        "zip header",
        good().header("zip", "DEF").sign(),
        Want::InvalidToken,
    );

    // Encoding attacks. `=` mid-token is not a b64token at all (RFC 6750 §2.1): 400.
    let (h, p) = valid_input.split_once('.').expect("two parts");
    add(
        "header padded",
        format!("{h}=.{p}.{valid_sig}"),
        Want::InvalidRequest,
    );
    add(
        "payload padded",
        format!("{h}.{p}=.{valid_sig}"),
        Want::InvalidRequest,
    );
    add(
        "payload in standard base64",
        format!("{h}.{}+/.{valid_sig}", p),
        Want::InvalidToken,
    );
    add(
        "JWE shape, five parts",
        format!("{h}.{p}.{valid_sig}.AAAA.BBBB"),
        Want::InvalidToken,
    );
    add(
        "four parts",
        format!("{h}.{p}.{valid_sig}.AAAA"),
        Want::InvalidToken,
    );
    add("two parts", format!("{h}.{p}"), Want::InvalidToken);
    add("one part", h.to_owned(), Want::InvalidToken);
    add(
        "empty header segment",
        format!(".{p}.{valid_sig}"),
        Want::InvalidToken,
    );
    add(
        "empty payload segment",
        format!("{h}..{valid_sig}"),
        Want::InvalidToken,
    );
    add(
        "duplicate sub in payload",
        raw(
            &header("RS256"),
            &claims.replacen('{', r#"{"sub":"admin","#, 1),
        ),
        Want::InvalidToken,
    );
    add(
        "duplicate scope in payload",
        raw(
            &header("RS256"),
            &claims.replacen('{', r#"{"scope":"admin:all","#, 1),
        ),
        Want::InvalidToken,
    );
    add(
        "duplicate alg in header",
        raw(
            &format!(r#"{{"alg":"none","alg":"RS256","kid":"{kid}"}}"#),
            &claims,
        ),
        Want::InvalidToken,
    );
    add(
        "escaped duplicate exp",
        raw(
            &header("RS256"),
            &claims.replacen('{', r#"{"\u0065xp":99999999999,"#, 1),
        ),
        Want::InvalidToken,
    );
    add(
        "BOM before payload",
        raw(&header("RS256"), &format!("\u{feff}{claims}")),
        Want::InvalidToken,
    );
    add(
        "payload an array",
        raw(&header("RS256"), &format!("[{claims}]")),
        Want::InvalidToken,
    );
    add(
        "payload null",
        raw(&header("RS256"), "null"),
        Want::InvalidToken,
    );
    add(
        "payload a JSON string of JSON",
        raw(
            &header("RS256"),
            &serde_json::to_string(&claims).expect("json"),
        ),
        Want::InvalidToken,
    );
    add(
        "payload with trailing garbage",
        raw(&header("RS256"), &format!("{claims}x")),
        Want::InvalidToken,
    );
    add(
        "payload not UTF-8",
        issuer.sign_raw(header("RS256").as_bytes(), b"{\"sub\":\"\xff\xfe\"}"),
        Want::InvalidToken,
    );
    add("header not JSON", raw("RS256", &claims), Want::InvalidToken);
    add(
        "deeply nested payload",
        raw(
            &header("RS256"),
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ),
        Want::InvalidToken,
    );
    add(
        "JSON serialization as the token",
        String::from(r#"{"payload":"e30","signatures":[]}"#),
        Want::InvalidRequest,
    );

    // Claim type confusion.
    let exp = good().claims()["exp"].clone();
    for (name, claim, value) in [
        ("exp a string", "exp", json!(exp.to_string())),
        (
            "exp a float",
            "exp",
            json!(exp.as_f64().expect("exp") + 0.5),
        ),
        ("exp null", "exp", Value::Null),
        ("exp negative", "exp", json!(-1)),
        ("exp beyond u64", "exp", json!(1e20)),
        ("exp u64::MAX", "exp", json!(u64::MAX)),
        (
            "exp 2^53, past I-JSON's exact range",
            "exp",
            json!(1u64 << 53),
        ),
        ("nbf u64::MAX", "nbf", json!(u64::MAX)),
        ("iat 2^53", "iat", json!(1u64 << 53)),
        ("exp an array", "exp", json!([exp])),
        ("iss an array", "iss", json!([issuer.issuer()])),
        ("iss a number", "iss", json!(1)),
        (
            "iss other case",
            "iss",
            json!(issuer.issuer().to_uppercase()),
        ),
        ("aud null", "aud", Value::Null),
        ("aud a number", "aud", json!(42)),
        ("aud empty", "aud", json!([])),
        (
            "aud another API",
            "aud",
            json!(["https://other.example/api"]),
        ),
        ("aud an object", "aud", json!({"aud": AUDIENCE})),
        ("nbf in the future", "nbf", json!(exp)),
        ("iat in the future", "iat", json!(exp)),
        (
            "cnf sender-constrained",
            "cnf",
            json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        ),
        ("sub a number", "sub", json!(1)),
        ("azp an object", "azp", json!({})),
    ] {
        add(name, good().claim(claim, value).sign(), Want::InvalidToken);
    }
    add(
        "exp removed",
        good().without_claim("exp").sign(),
        Want::InvalidToken,
    );
    add("expired", good().expired().sign(), Want::InvalidToken);
    for (name, value) in [
        ("a number", json!(1)),
        ("an object", json!({"read:orders": true})),
        ("a mixed array", json!(["read:orders", 1])),
        ("upper case", json!("READ:ORDERS")),
        ("a wildcard", json!("read:* *:*")),
    ] {
        add(
            &format!("scope {name}"),
            good().claim("scope", value).sign(),
            Want::InsufficientScope,
        );
    }

    // Size attacks.
    add(
        "token over 16 KiB",
        good().claim("padding", "x".repeat(17 * 1024)).sign(),
        Want::InvalidToken,
    );
    add("100k dots", ".".repeat(100_000), Want::InvalidToken);

    // Transport oddities.
    let mut push = |name: &str, values: Vec<Vec<u8>>, want: Want| {
        cases.push(Case {
            name: name.into(),
            authorization: values,
            want,
        })
    };
    push(
        "two headers, one valid",
        vec![
            format!("Bearer {valid}").into_bytes(),
            b"Bearer x.y.z".to_vec(),
        ],
        Want::InvalidRequest,
    );
    push(
        "two tokens in one header",
        vec![format!("Bearer {valid}, Bearer {valid}").into_bytes()],
        Want::InvalidRequest,
    );
    push(
        "tab after Bearer",
        vec![format!("Bearer\t{valid}").into_bytes()],
        Want::NoCredentials,
    );
    push(
        "Token scheme",
        vec![format!("Token {valid}").into_bytes()],
        Want::NoCredentials,
    );
    push(
        "Basic with a JWT",
        vec![format!("Basic {valid}").into_bytes()],
        Want::NoCredentials,
    );
    push(
        "obs-text in the token",
        vec![b"Bearer abc\xe9def".to_vec()],
        Want::InvalidRequest,
    );
    push(
        "quoted token",
        vec![format!("Bearer \"{valid}\"").into_bytes()],
        Want::InvalidRequest,
    );
    push(
        "Bearer with only padding",
        vec![b"Bearer ===".to_vec()],
        Want::InvalidRequest,
    );
    cases
}

/// `kid` values that must be refused without being echoed anywhere in the response.
const HOSTILE_KIDS: &[(&str, &str)] = &[
    ("path traversal", "../../../../etc/passwd"),
    ("SQL injection", "' OR '1'='1' -- "),
    ("CRLF injection", "k\r\nSet-Cookie: hacked=1\r\n"),
    ("script", "<script>alert(1)</script>"),
    ("format string", "%s%s%s%n"),
    ("null byte", "k\0x"),
];

async fn start(idp: &Idp) -> [(&'static str, String); 2] {
    start_with(idp, None).await
}

async fn start_with(
    idp: &Idp,
    dpop: Option<scopegate_core::DpopMode>,
) -> [(&'static str, String); 2] {
    let config = example_axum_products::Config {
        issuer: idp.issuer(),
        audiences: vec![AUDIENCE.into()],
        port: 0,
        token_cache: true,
        dpop,
    };
    let (listener, addr) = example_axum_products::bind(0).await.expect("bind");
    tokio::spawn(example_axum_products::serve(
        listener,
        config.verifier().expect("verifier"),
    ));
    let actix_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let actix_addr = actix_listener.local_addr().expect("addr");
    let server =
        example_actix_products::server(actix_listener, config.verifier().expect("verifier"), 1)
            .expect("server");
    tokio::spawn(server);
    [
        ("axum", format!("http://{addr}")),
        ("actix", format!("http://{actix_addr}")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_exactly_and_identically() {
    let placeholder = TestIssuer::new();
    let idp = Idp::start(jwks_with_oct_key(&placeholder), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let attacker = TestIssuer::new()
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE)
        .with_kid("attacker");
    let adapters = start(&idp).await;
    let client = reqwest::Client::new();
    let table = cases(&issuer, &attacker);
    assert!(table.len() >= 80, "{} cases", table.len());

    for case in &table {
        let mut answers = Vec::new();
        for (adapter, base) in &adapters {
            let mut request = client.get(format!("{base}/api/orders"));
            for value in &case.authorization {
                let value = reqwest::header::HeaderValue::from_bytes(value).expect("header bytes");
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            let name = format!("{adapter}: {}", case.name);
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let status = response.status().as_u16();
            let headers = format!("{:?}", response.headers());
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.text().await.unwrap_or_default();
            assert!(
                !(200..300).contains(&status) && status < 500,
                "{name}: status {status}"
            );
            for (_, kid) in HOSTILE_KIDS {
                assert!(
                    !headers.contains(kid) && !body.contains(kid),
                    "{name}: echoed {kid:?}"
                );
            }
            assert!(
                !headers.to_lowercase().contains("hacked"),
                "{name}: header injection"
            );
            let code = challenge
                .as_deref()
                .and_then(|c| c.split("error=\"").nth(1))
                .and_then(|c| c.split('"').next());
            match case.want {
                Want::InvalidToken => {
                    assert_eq!((status, code), (401, Some("invalid_token")), "{name}")
                }
                Want::InvalidRequest => {
                    assert_eq!((status, code), (400, Some("invalid_request")), "{name}")
                }
                Want::NoCredentials => assert_eq!(
                    (status, challenge.as_deref()),
                    (401, Some(r#"Bearer realm="api""#)),
                    "{name}"
                ),
                Want::InsufficientScope => {
                    assert_eq!((status, code), (403, Some("insufficient_scope")), "{name}")
                }
            }
            answers.push((status, challenge));
        }
        assert_eq!(
            answers[0], answers[1],
            "axum and actix diverge on {}",
            case.name
        );
    }
}

/// A DPoP attack on `GET /api/orders`: the headers to send, given the server's base URL.
type DpopAttack<'a> = (
    &'a str,
    Box<dyn Fn(&str) -> Vec<(&'static str, String)> + 'a>,
    (u16, &'a str),
);

/// The DPoP attacks, against both examples started with `SCOPEGATE_DPOP=allowed`: each
/// gets its exact status and error code, the same from axum and actix, never 2xx or 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dpop_requests_are_refused_exactly_and_identically() {
    use scopegate_tests::dpop_client::DpopClient;
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let issuer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    // Same kid as the issuer's key: only the key set of the token's issuer may verify.
    let other_issuer = TestIssuer::new()
        .with_issuer("https://other-tenant.example/")
        .with_audience(AUDIENCE);
    let victim = DpopClient::default();
    let thief = DpopClient::default();
    let bound = |signer: &TestIssuer| {
        signer
            .token()
            .scope("read:orders")
            .claim("iss", issuer.issuer())
            .claim("cnf", json!({"jkt": victim.thumbprint()}))
            .sign()
    };
    let token = bound(&issuer);
    let forged = bound(&other_issuer);
    let adapters = start_with(&idp, Some(scopegate_core::DpopMode::Allowed)).await;
    let client = reqwest::Client::new();

    let dpop = |token: &str, proof: String| {
        vec![("authorization", format!("DPoP {token}")), ("dpop", proof)]
    };
    let orders = |base: &str| format!("{base}/api/orders");
    let proof_dpop = "invalid_dpop_proof";
    let attacks: Vec<DpopAttack<'_>> =
        vec![
            (
                "downgrade: the bound token as Bearer",
                Box::new(|_: &str| vec![("authorization", format!("Bearer {token}"))]),
                (401, "invalid_token"),
            ),
            (
                "a stolen token with the thief's proof",
                Box::new(|base: &str| {
                    dpop(&token, thief.proof("GET", &orders(base), &token, |_, _| {}))
                }),
                (401, proof_dpop),
            ),
            (
                "htu of another host",
                Box::new(|_: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", "http://evil.example/api/orders", &token, |_, _| {}),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "htu with another port",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &format!("{base}1/api/orders"), &token, |_, _| {}),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "htm in lower case",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("get", &orders(base), &token, |_, _| {}),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "jku instead of jwk",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |h, _| {
                            h.as_object_mut().map(|h| h.remove("jwk"));
                            h["jku"] = json!("http://127.0.0.1:1/jwks.json");
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "an oct jwk with HS256",
                Box::new(|base: &str| {
                    dpop(&token, victim.proof("GET", &orders(base), &token, |h, _| {
            h["alg"] = json!("HS256");
            h["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"});
        }))
                }),
                (401, proof_dpop),
            ),
            (
                "no typ",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |h, _| {
                            h.as_object_mut().map(|h| h.remove("typ"));
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "crit in the proof",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |h, _| {
                            h["crit"] = json!(["htu"])
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "a 300-character jti",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |_, c| {
                            c["jti"] = json!("j".repeat(300))
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "iat as a string",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |_, c| {
                            c["iat"] = json!(c["iat"].to_string())
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "iat u64::MAX",
                Box::new(|base: &str| {
                    dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |_, c| {
                            c["iat"] = json!(u64::MAX)
                        }),
                    )
                }),
                (401, proof_dpop),
            ),
            (
                "the token as the proof",
                Box::new(|_: &str| dpop(&token, token.clone())),
                (401, proof_dpop),
            ),
            (
                "cross-issuer key: a token claiming the issuer, signed by another",
                Box::new(|base: &str| {
                    dpop(
                        &forged,
                        victim.proof("GET", &orders(base), &forged, |_, _| {}),
                    )
                }),
                (401, "invalid_token"),
            ),
            (
                "two DPoP headers",
                Box::new(|base: &str| {
                    let mut headers = dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |_, _| {}),
                    );
                    headers.push((
                        "dpop",
                        victim.proof("GET", &orders(base), &token, |_, _| {}),
                    ));
                    headers
                }),
                (400, "invalid_request"),
            ),
            (
                "two Authorization headers",
                Box::new(|base: &str| {
                    let mut headers = dpop(
                        &token,
                        victim.proof("GET", &orders(base), &token, |_, _| {}),
                    );
                    headers.push(("authorization", format!("DPoP {token}")));
                    headers
                }),
                (400, "invalid_request"),
            ),
        ];

    let send = |base: &str, headers: &[(&'static str, String)]| {
        let mut request = client.get(orders(base));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        async move {
            let response = request.send().await.expect("response");
            let status = response.status().as_u16();
            let code = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .and_then(|c| c.split("error=\"").nth(1))
                .and_then(|c| c.split('"').next())
                .map(str::to_owned);
            (status, code)
        }
    };
    for (adapter, base) in &adapters {
        // A proof replayed after its legitimate use.
        let proof = victim.proof("GET", &orders(base), &token, |_, _| {});
        assert_eq!(
            send(base, &dpop(&token, proof.clone())).await.0,
            200,
            "{adapter}"
        );
        assert_eq!(
            send(base, &dpop(&token, proof)).await,
            (401, Some(proof_dpop.to_owned())),
            "{adapter}: replay"
        );
    }
    for (name, headers, (status, code)) in &attacks {
        let mut answers = Vec::new();
        for (adapter, base) in &adapters {
            let answer = send(base, &headers(base)).await;
            assert_eq!(
                answer,
                (*status, Some((*code).to_owned())),
                "{adapter}: {name}"
            );
            answers.push(answer);
        }
        assert_eq!(answers[0], answers[1], "axum and actix diverge on {name}");
    }
}
