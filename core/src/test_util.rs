//! Testing support: a self-contained issuer that signs real tokens (feature `test-util`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Map, Value, json};

use crate::algorithm::{Algorithm, KeyKind};
use crate::config::{ConfigError, VerifierConfig};
use crate::keys::{KeyError, KeySet, VerificationKey};
use crate::verifier::Verifier;

/// An in-process token issuer for tests: generates a fresh key, exposes its JWKS, and
/// signs tokens built fluently. Use it to test your own API end to end with real tokens.
///
/// ```
/// use scopegate_core::{test_util::TestIssuer, Algorithm};
///
/// let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
/// let token = issuer
///     .token()
///     .subject("auth0|alice")
///     .scope("read:orders write:orders")
///     .claim("https://retail.example/tier", "gold")
///     .sign();
/// assert_eq!(token.split('.').count(), 3);
/// let jwks = issuer.jwks(); // serve this from your test JWKS endpoint
/// assert_eq!(jwks["keys"][0]["kty"], "EC");
/// ```
pub struct TestIssuer {
    issuer: String,
    audience: String,
    kid: String,
    alg: Algorithm,
    signing: EncodingKey,
    public_jwk: Option<Value>,
    secret: Option<Vec<u8>>,
    private_pem: Option<String>,
}

impl TestIssuer {
    /// The issuer of a new `TestIssuer`.
    pub const DEFAULT_ISSUER: &'static str = "https://issuer.scopegate.test/";
    /// The audience tokens carry unless told otherwise.
    pub const DEFAULT_AUDIENCE: &'static str = "https://api.scopegate.test/";
    /// The key id of a new `TestIssuer`.
    pub const DEFAULT_KID: &'static str = "test-key-1";

    /// An RS256 issuer with a fresh 2048-bit RSA key.
    pub fn new() -> Self {
        Self::with_algorithm(Algorithm::RS256)
    }

    /// An issuer signing with `alg`, with a freshly generated key (a 64-byte secret for HS*).
    ///
    /// # Panics
    ///
    /// Panics if the system cannot generate a key.
    pub fn with_algorithm(alg: Algorithm) -> Self {
        let (signing, secret, private_pem) = generate_key(alg);
        Self::from_parts(alg, signing, secret, private_pem)
    }

    /// An RS256 issuer signing with an existing RSA private key (PKCS#8 or PKCS#1 PEM),
    /// e.g. one saved from [`rsa_private_key_pem`](Self::rsa_private_key_pem) so that
    /// separate processes sign with the same key.
    pub fn from_rsa_private_key_pem(pem: &str) -> Result<Self, KeyError> {
        let invalid = |_| KeyError::Unusable("not an RSA private key PEM");
        let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(invalid)?;
        Jwk::from_encoding_key(&signing, Algorithm::RS256.to_jwt()).map_err(invalid)?;
        Ok(Self::from_parts(
            Algorithm::RS256,
            signing,
            None,
            Some(pem.to_owned()),
        ))
    }

    /// The RSA private key as PEM (RSA issuers only).
    pub fn rsa_private_key_pem(&self) -> Option<&str> {
        self.private_pem.as_deref()
    }

    fn from_parts(
        alg: Algorithm,
        signing: EncodingKey,
        secret: Option<Vec<u8>>,
        private_pem: Option<String>,
    ) -> Self {
        let public_jwk = (!alg.is_hmac()).then(|| {
            let jwk = Jwk::from_encoding_key(&signing, alg.to_jwt())
                .expect("public JWK of a generated key");
            let mut jwk = serde_json::to_value(jwk).expect("JWK serializes");
            jwk["use"] = json!("sig");
            jwk
        });
        let mut issuer = Self {
            issuer: Self::DEFAULT_ISSUER.to_owned(),
            audience: Self::DEFAULT_AUDIENCE.to_owned(),
            kid: String::new(),
            alg,
            signing,
            public_jwk,
            secret,
            private_pem,
        };
        issuer.set_kid(Self::DEFAULT_KID);
        issuer
    }

    /// Changes the `iss` of the tokens (and of [`verifier_config`](Self::verifier_config)).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Changes the default audience of the tokens (and of the verifier config).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Changes the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.set_kid(&kid.into());
        self
    }

    fn set_kid(&mut self, kid: &str) {
        self.kid = kid.to_owned();
        if let Some(jwk) = &mut self.public_jwk {
            jwk["kid"] = json!(kid);
        }
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The default `aud` value.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public key as a JWK (`None` for an HMAC issuer).
    pub fn public_jwk(&self) -> Option<&Value> {
        self.public_jwk.as_ref()
    }

    /// The HMAC secret (`None` for an asymmetric issuer).
    pub fn hmac_secret(&self) -> Option<&[u8]> {
        self.secret.as_deref()
    }

    /// The JWKS document: `{"keys": [public JWK]}` (no keys for an HMAC issuer).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.public_jwk.iter().collect::<Vec<_>>() })
    }

    /// [`jwks`](Self::jwks) as a JSON string.
    pub fn jwks_json(&self) -> String {
        self.jwks().to_string()
    }

    /// The verification key set matching this issuer (the HMAC secret for HS*).
    pub fn key_set(&self) -> KeySet {
        let key = match (&self.public_jwk, &self.secret) {
            (Some(jwk), _) => VerificationKey::from_jwk(jwk),
            (None, Some(secret)) => {
                VerificationKey::hmac_secret(secret).map(|key| key.with_kid(self.kid.clone()))
            }
            (None, None) => unreachable!("an issuer has a public key or a secret"),
        };
        KeySet::from(key.expect("a generated key is usable"))
    }

    /// A verifier configuration accepting this issuer's tokens: its issuer, audience,
    /// algorithm and keys.
    pub fn verifier_config(&self) -> VerifierConfig {
        VerifierConfig::new(self.issuer.clone(), self.audience.clone())
            .algorithms([self.alg])
            .keys(self.key_set())
    }

    /// `verifier_config().build()`.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        self.verifier_config().build()
    }

    /// Starts a token: header `{alg, typ: "JWT", kid}`, claims `iss`, `sub`
    /// (`auth0|test-user`), `aud`, `iat` (now) and `exp` (in one hour).
    pub fn token(&self) -> TokenBuilder<'_> {
        let now = unix_now();
        let header = json!({ "alg": self.alg.as_str(), "typ": "JWT", "kid": self.kid });
        let claims = json!({
            "iss": self.issuer,
            "sub": "auth0|test-user",
            "aud": self.audience,
            "iat": now,
            "exp": now + 3600,
        });
        TokenBuilder {
            issuer: self,
            header: into_map(header),
            claims: into_map(claims),
        }
    }

    /// Signs arbitrary header and payload bytes (base64url-encoded here) with this
    /// issuer's key: for tokens no builder would produce (duplicate members, BOM, ...).
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        self.sign_input(&signing_input)
    }

    /// Signs an already encoded `header.payload` and appends the signature.
    pub fn sign_input(&self, signing_input: &str) -> String {
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.signing, self.alg.to_jwt())
                .expect("signing with a generated key");
        format!("{signing_input}.{signature}")
    }
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A token being built by [`TestIssuer::token`]. Every setter replaces what was there.
#[derive(Debug)]
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl TokenBuilder<'_> {
    /// Sets `sub`.
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// Sets `aud` to one string.
    pub fn audience(self, aud: &str) -> Self {
        self.claim("aud", aud)
    }

    /// Sets `aud` to an array.
    pub fn audiences<'s>(self, auds: impl IntoIterator<Item = &'s str>) -> Self {
        self.claim("aud", auds.into_iter().collect::<Vec<_>>())
    }

    /// Sets the `scope` claim (a space-separated string).
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// Sets Auth0's `permissions` array.
    pub fn permissions<'s>(self, permissions: impl IntoIterator<Item = &'s str>) -> Self {
        self.claim("permissions", permissions.into_iter().collect::<Vec<_>>())
    }

    /// Sets `exp` to now plus `secs` (negative for the past).
    pub fn expires_in(self, secs: i64) -> Self {
        self.claim("exp", unix_now().saturating_add_signed(secs))
    }

    /// Sets `exp` a minute in the past, beyond the default leeway.
    pub fn expired(self) -> Self {
        self.expires_in(-60)
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets any header parameter (`alg` here changes only what the header says; the
    /// signature is always made with the issuer's own key and algorithm).
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a header parameter, e.g. `kid`.
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// The claims so far.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Encodes and signs the token.
    pub fn sign(self) -> String {
        let header = serde_json::to_vec(&self.header).expect("JSON serializes");
        let claims = serde_json::to_vec(&self.claims).expect("JSON serializes");
        self.issuer.sign_raw(&header, &claims)
    }
}

fn generate_key(alg: Algorithm) -> (EncodingKey, Option<Vec<u8>>, Option<String>) {
    const FAILED: &str = "key generation failed";
    match alg.key_kind() {
        KeyKind::Hmac => {
            let mut secret = vec![0u8; 64];
            aws_lc_rs::rand::fill(&mut secret).expect(FAILED);
            (EncodingKey::from_secret(&secret), Some(secret), None)
        }
        KeyKind::Rsa => {
            let pair =
                aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect(FAILED);
            let der = pair.as_der().expect(FAILED);
            let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref()));
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect(FAILED);
            (key, None, Some(pem))
        }
        KeyKind::EcP256 | KeyKind::EcP384 => {
            let curve = if alg.key_kind() == KeyKind::EcP256 {
                &ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let pkcs8 = EcdsaKeyPair::generate(curve)
                .and_then(|pair| pair.to_pkcs8v1())
                .expect(FAILED);
            (EncodingKey::from_ec_der(pkcs8.as_ref()), None, None)
        }
        KeyKind::Ed25519 => {
            let pkcs8 = Ed25519KeyPair::generate()
                .and_then(|pair| pair.to_pkcs8v1())
                .expect(FAILED);
            (EncodingKey::from_ed_der(pkcs8.as_ref()), None, None)
        }
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
