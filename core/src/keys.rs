//! Verification keys and key sets: parsed and checked once, when configured or fetched.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use serde_json::Value;

use crate::algorithm::{Algorithm, KeyKind};
use crate::error::ErrorKind;
use crate::signature::Verifiers;

/// The smallest RSA modulus scopegate accepts, in bits (RFC 7518 §3.3, NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;

/// The smallest HMAC secret scopegate accepts, in bytes (RFC 7518 §3.2 for HS256).
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// Why a key or key set cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWKS is not a JSON object with a `keys` array.
    #[error("the JWKS is not a JSON object with a `keys` array")]
    InvalidJwks,
    /// The JWKS holds more keys than allowed.
    #[error("the JWKS holds more than {0} keys")]
    TooManyKeys(usize),
    /// The JWKS holds no usable signing key.
    #[error("the JWKS holds no usable signing key")]
    NoUsableKey,
    /// A key that can never verify a signature here, and why.
    #[error("unusable key: {0}")]
    Unusable(&'static str),
    /// An RSA key with a modulus under [`MIN_RSA_BITS`].
    #[error("RSA keys must have at least 2048 bits")]
    WeakRsaKey,
    /// An HMAC secret under [`MIN_HMAC_SECRET_LEN`] bytes.
    #[error("HMAC secrets must be at least 32 bytes")]
    WeakSecret,
}

/// One key that can verify signatures: a public key (RSA, EC P-256/P-384, Ed25519) or
/// an explicitly configured HMAC secret.
///
/// ```
/// use scopegate_core::{Algorithm, VerificationKey};
///
/// let key = VerificationKey::hmac_secret(b"a secret of at least thirty-two bytes!")?
///     .with_kid("k1")
///     .with_algorithm(Algorithm::HS256)?;
/// assert_eq!(key.kid(), Some("k1"));
/// # Ok::<(), scopegate_core::KeyError>(())
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<String>,
    kind: KeyKind,
    alg: Option<Algorithm>,
    verifiers: Verifiers,
}

impl VerificationKey {
    /// Reads one JWK (RFC 7517). Refuses `oct` keys (a JWKS never supplies a shared
    /// secret), keys whose `use` is not `sig` or whose `key_ops` lack `verify`, `alg`
    /// values that are not signature algorithms or do not fit the key, RSA keys under
    /// 2048 bits, and curves other than P-256, P-384 and Ed25519.
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let object = jwk
            .as_object()
            .ok_or(KeyError::Unusable("a JWK must be a JSON object"))?;
        match object.get("kty").and_then(Value::as_str) {
            Some("oct") => {
                return Err(KeyError::Unusable(
                    "symmetric keys from a JWKS are never used",
                ));
            }
            Some("RSA" | "EC" | "OKP") => {}
            _ => return Err(KeyError::Unusable("unsupported key type")),
        }
        match object.get("use") {
            None => {}
            Some(Value::String(usage)) if usage == "sig" => {}
            Some(_) => return Err(KeyError::Unusable("the key is not for signatures")),
        }
        if let Some(ops) = object.get("key_ops") {
            let verifies = ops
                .as_array()
                .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
            if !verifies {
                return Err(KeyError::Unusable(
                    "the key's key_ops do not include verify",
                ));
            }
        }
        let alg = match object.get("alg") {
            None => None,
            Some(Value::String(name)) => Some(name.parse::<Algorithm>().map_err(|_| {
                KeyError::Unusable("the key's alg is not a supported signature algorithm")
            })?),
            Some(_) => return Err(KeyError::Unusable("the key's alg is not a string")),
        };
        let parsed: Jwk =
            serde_json::from_value(jwk.clone()).map_err(|_| KeyError::Unusable("malformed JWK"))?;
        let malformed = || KeyError::Unusable("malformed JWK");
        let bytes = |b64: &str| URL_SAFE_NO_PAD.decode(b64).map_err(|_| malformed());
        let (kind, verifiers) = match &parsed.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                if rsa_modulus_bits(&rsa.n)? < MIN_RSA_BITS {
                    return Err(KeyError::WeakRsaKey);
                }
                (
                    KeyKind::Rsa,
                    Verifiers::rsa(&bytes(&rsa.n)?, &bytes(&rsa.e)?),
                )
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let kind = match ec.curve {
                    EllipticCurve::P256 => KeyKind::EcP256,
                    EllipticCurve::P384 => KeyKind::EcP384,
                    _ => return Err(KeyError::Unusable("unsupported elliptic curve")),
                };
                (kind, Verifiers::ec(kind, &bytes(&ec.x)?, &bytes(&ec.y)?))
            }
            AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
                EllipticCurve::Ed25519 => (KeyKind::Ed25519, Verifiers::ed25519(&bytes(&okp.x)?)),
                _ => return Err(KeyError::Unusable("unsupported octet key pair curve")),
            },
            _ => return Err(KeyError::Unusable("unsupported key type")),
        };
        if alg.is_some_and(|alg| alg.key_kind() != kind) {
            return Err(KeyError::Unusable(
                "the key's alg does not fit its key type",
            ));
        }
        Ok(Self {
            kid: parsed.common.key_id,
            kind,
            alg,
            verifiers: verifiers.ok_or_else(malformed)?,
        })
    }

    /// Reads a PEM public key: an RSA (`PUBLIC KEY` or `RSA PUBLIC KEY`), EC P-256/P-384,
    /// or Ed25519 public key. Private keys are refused.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.as_bytes();
        let decoding = DecodingKey::from_rsa_pem(pem)
            .or_else(|_| DecodingKey::from_ec_pem(pem))
            .or_else(|_| DecodingKey::from_ed_pem(pem))
            .map_err(|_| KeyError::Unusable("not a PEM public key"))?;
        let jwk = Jwk::from_decoding_key(&decoding, None)
            .map_err(|_| KeyError::Unusable("not a PEM public key"))?;
        let jwk =
            serde_json::to_value(jwk).map_err(|_| KeyError::Unusable("not a PEM public key"))?;
        Self::from_jwk(&jwk)
    }

    /// An HMAC secret, for HS256/HS384/HS512 tokens. Must be at least 32 bytes; HS384
    /// and HS512 additionally need 48 and 64 bytes (RFC 7518 §3.2).
    pub fn hmac_secret(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::WeakSecret);
        }
        Ok(Self {
            kid: None,
            kind: KeyKind::Hmac,
            alg: None,
            verifiers: Verifiers::hmac(secret),
        })
    }

    /// Names the key: tokens whose header `kid` equals this use it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Restricts the key to one algorithm. Fails if the algorithm does not fit the key.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, KeyError> {
        if alg.key_kind() != self.kind {
            return Err(KeyError::Unusable(
                "the algorithm does not fit the key type",
            ));
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the key is restricted to, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Whether this is an HMAC secret.
    pub fn is_hmac(&self) -> bool {
        self.kind == KeyKind::Hmac
    }

    /// Whether a token signed with `alg` may be verified with this key.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|own| own == alg) && self.verifiers.supports(alg)
    }

    /// Verifies `signature` (base64url) over `signing_input` with `alg`.
    pub(crate) fn verify(&self, alg: Algorithm, signing_input: &[u8], signature: &str) -> bool {
        self.verifiers.verify(alg, signing_input, signature)
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn rsa_modulus_bits(n: &str) -> Result<usize, KeyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(n)
        .map_err(|_| KeyError::Unusable("malformed RSA modulus"))?;
    let significant = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => return Err(KeyError::Unusable("malformed RSA modulus")),
    };
    Ok(significant.len() * 8 - significant[0].leading_zeros() as usize)
}

/// An immutable set of verification keys, such as a JWKS.
///
/// ```
/// use scopegate_core::KeySet;
///
/// let jwks = r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "never-used"}]}"#;
/// assert!(KeySet::from_jwks(jwks).is_err()); // a JWKS never supplies an HMAC secret
/// ```
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    /// Distinguishes key sets, so that cached verifications die with the set that made them.
    id: u64,
}

impl Default for KeySet {
    fn default() -> Self {
        Self::with_keys(Vec::new())
    }
}

impl KeySet {
    /// The most keys a JWKS may hold.
    pub const MAX_JWKS_KEYS: usize = 100;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_keys(keys: Vec<VerificationKey>) -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            keys,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// This set's identity (a fetched or configured set gets a new one).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Adds a key.
    pub fn with_key(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Reads a JWKS document (RFC 7517 §5). Keys that cannot be used are skipped with a
    /// warning event (target `scopegate::keys`); it is an error if none is usable.
    pub fn from_jwks(jwks: &str) -> Result<Self, KeyError> {
        let keys = Self::from_jwks_entries(&jwks_entries(jwks.as_bytes(), Self::MAX_JWKS_KEYS)?);
        if keys.is_empty() {
            return Err(KeyError::NoUsableKey);
        }
        Ok(keys)
    }

    /// The usable keys among a JWKS's `keys` entries, unusable ones skipped with a
    /// warning event; empty when none is usable.
    pub(crate) fn from_jwks_entries(entries: &[Value]) -> Self {
        let mut keys = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            match VerificationKey::from_jwk(entry) {
                Ok(key) => keys.push(key),
                Err(error) => tracing::warn!(
                    target: "scopegate::keys",
                    index,
                    kid = ?entry.get("kid"),
                    %error,
                    "skipping unusable JWKS key"
                ),
            }
        }
        Self::with_keys(keys)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &VerificationKey> + '_ {
        self.keys.iter()
    }

    /// Whether some key is named `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The key for a token: by `kid` when the header has one (it must then fit `alg`),
    /// otherwise the single key that fits `alg`.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerificationKey, ErrorKind> {
        match kid {
            Some(kid) => {
                if !self.contains_kid(kid) {
                    return Err(ErrorKind::UnknownKey);
                }
                single(
                    self.keys
                        .iter()
                        .filter(|key| key.kid() == Some(kid) && key.fits(alg)),
                )
                .ok_or(ErrorKind::KeyMismatch)
            }
            None => {
                single(self.keys.iter().filter(|key| key.fits(alg))).ok_or(ErrorKind::UnknownKey)
            }
        }
    }
}

/// The `keys` entries of a JWKS document: a JSON object (no duplicate members) whose
/// `keys` is an array of at most `max_keys` items.
pub(crate) fn jwks_entries(bytes: &[u8], max_keys: usize) -> Result<Vec<Value>, KeyError> {
    let mut document = crate::json::parse_object(bytes).ok_or(KeyError::InvalidJwks)?;
    let Some(Value::Array(entries)) = document.remove("keys") else {
        return Err(KeyError::InvalidJwks);
    };
    if entries.len() > max_keys {
        return Err(KeyError::TooManyKeys(max_keys));
    }
    Ok(entries)
}

/// The only item of `iter`, or `None` for zero or several.
fn single<T>(mut iter: impl Iterator<Item = T>) -> Option<T> {
    let first = iter.next()?;
    iter.next().is_none().then_some(first)
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl From<VerificationKey> for KeySet {
    fn from(key: VerificationKey) -> Self {
        Self::new().with_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_ignore_leading_zeros() {
        let mut n = vec![0u8, 0x80];
        n.extend([0u8; 255]);
        assert_eq!(rsa_modulus_bits(&URL_SAFE_NO_PAD.encode(&n)), Ok(2048));
        let n = [0x7fu8; 128];
        assert_eq!(rsa_modulus_bits(&URL_SAFE_NO_PAD.encode(n)), Ok(1023));
    }

    #[test]
    fn short_hmac_secrets_are_refused() {
        assert_eq!(
            VerificationKey::hmac_secret([7u8; 31]).err(),
            Some(KeyError::WeakSecret)
        );
        let key = VerificationKey::hmac_secret([7u8; 32]).expect("32 bytes is enough for HS256");
        assert!(key.fits(Algorithm::HS256));
        assert!(!key.fits(Algorithm::HS384), "HS384 needs a 48-byte secret");
        assert!(!key.fits(Algorithm::RS256));
    }

    #[test]
    fn invalid_jwks_documents_are_errors() {
        for doc in [
            "",
            "[]",
            "{}",
            r#"{"keys": {}}"#,
            r#"{"keys": []}"#,
            r#"{"keys": [1, "x"]}"#,
        ] {
            assert!(KeySet::from_jwks(doc).is_err(), "{doc:?}");
        }
        let many = format!(r#"{{"keys": [{}]}}"#, vec!["{}"; 101].join(","));
        assert_eq!(
            KeySet::from_jwks(&many).err(),
            Some(KeyError::TooManyKeys(100))
        );
    }
}
