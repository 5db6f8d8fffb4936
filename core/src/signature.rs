//! Signature checks with keys parsed once, when they are configured or fetched.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::algorithm::{Algorithm, KeyKind};

/// The longest signature accepted, in bytes (RSA-8192).
const MAX_SIGNATURE: usize = 1024;

/// One algorithm's ready-to-use verifier for one key.
#[derive(Clone)]
enum Check {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

/// The verifiers of one key, one per algorithm the key may serve.
#[derive(Clone, Default)]
pub(crate) struct Verifiers {
    checks: Vec<(Algorithm, Check)>,
}

impl Verifiers {
    /// Verifiers for an RSA public key given by its modulus and exponent.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Option<Self> {
        let der = PublicKeyComponents { n, e }.as_der().ok()?;
        Self::public(KeyKind::Rsa, der.as_ref())
    }

    /// Verifiers for an EC public key given by its coordinates.
    pub(crate) fn ec(kind: KeyKind, x: &[u8], y: &[u8]) -> Option<Self> {
        let size = if kind == KeyKind::EcP256 { 32 } else { 48 };
        if x.len() != size || y.len() != size {
            return None;
        }
        let point = [&[0x04][..], x, y].concat();
        Self::public(kind, &point)
    }

    /// Verifiers for an Ed25519 public key.
    pub(crate) fn ed25519(x: &[u8]) -> Option<Self> {
        Self::public(KeyKind::Ed25519, x)
    }

    /// Verifiers for an HMAC secret: each HS algorithm whose minimum length it meets.
    pub(crate) fn hmac(secret: &[u8]) -> Self {
        let checks = Algorithm::ALL
            .into_iter()
            .filter(|alg| alg.key_kind() == KeyKind::Hmac && secret.len() >= alg.min_secret_len())
            .filter_map(|alg| {
                Some((
                    alg,
                    Check::Hmac(Box::new(hmac::Key::new(hmac_algorithm(alg)?, secret))),
                ))
            })
            .collect();
        Self { checks }
    }

    fn public(kind: KeyKind, material: &[u8]) -> Option<Self> {
        let mut checks = Vec::new();
        for alg in Algorithm::ALL
            .into_iter()
            .filter(|alg| alg.key_kind() == kind)
        {
            let parsed = ParsedPublicKey::new(public_algorithm(alg)?, material).ok()?;
            checks.push((alg, Check::Public(parsed)));
        }
        Some(Self { checks })
    }

    /// Whether `alg` can be checked with this key.
    pub(crate) fn supports(&self, alg: Algorithm) -> bool {
        self.checks.iter().any(|(own, _)| *own == alg)
    }

    /// Verifies `signature` (base64url, no padding) over `signing_input`. Does not allocate.
    pub(crate) fn verify(&self, alg: Algorithm, signing_input: &[u8], signature: &str) -> bool {
        let Some((_, check)) = self.checks.iter().find(|(own, _)| *own == alg) else {
            return false;
        };
        let mut buffer = [0u8; MAX_SIGNATURE];
        let Ok(len) = URL_SAFE_NO_PAD.decode_slice(signature, &mut buffer) else {
            return false;
        };
        let signature = &buffer[..len];
        match check {
            Check::Public(key) => key.verify_sig(signing_input, signature).is_ok(),
            Check::Hmac(key) => hmac::verify(key, signing_input, signature).is_ok(),
        }
    }
}

fn public_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => return None,
    })
}

fn hmac_algorithm(alg: Algorithm) -> Option<hmac::Algorithm> {
    Some(match alg {
        Algorithm::HS256 => hmac::HMAC_SHA256,
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => return None,
    })
}
