//! The JWS algorithms scopegate verifies.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037) that a [`Verifier`](crate::Verifier)
/// can be allowed to accept.
///
/// There is deliberately no `none` variant: an unsigned token can never be accepted.
/// The allow-list always comes from configuration, never from the token.
///
/// ```
/// use scopegate_core::Algorithm;
///
/// assert_eq!("RS256".parse::<Algorithm>(), Ok(Algorithm::RS256));
/// assert!("none".parse::<Algorithm>().is_err());
/// assert!("rs256".parse::<Algorithm>().is_err()); // names are case-sensitive
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 (needs an explicitly configured secret).
    HS256,
    /// HMAC with SHA-384 (needs an explicitly configured secret).
    HS384,
    /// HMAC with SHA-512 (needs an explicitly configured secret).
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Auth0's default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA on Ed25519.
    EdDSA,
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A shared HMAC secret.
    Hmac,
    /// An RSA public key.
    Rsa,
    /// An EC public key on P-256.
    EcP256,
    /// An EC public key on P-384.
    EcP384,
    /// An Ed25519 public key.
    Ed25519,
}

impl Algorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Algorithm; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The registered `alg` name, e.g. `"RS256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether this is an HMAC (shared secret) algorithm.
    pub const fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    pub(crate) const fn key_kind(self) -> KeyKind {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => KeyKind::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                KeyKind::Rsa
            }
            Self::ES256 => KeyKind::EcP256,
            Self::ES384 => KeyKind::EcP384,
            Self::EdDSA => KeyKind::Ed25519,
        }
    }

    /// The smallest HMAC secret this algorithm accepts (RFC 7518 §3.2: at least the hash size).
    pub(crate) const fn min_secret_len(self) -> usize {
        match self {
            Self::HS384 => 48,
            Self::HS512 => 64,
            _ => 32,
        }
    }

    /// The jsonwebtoken name of this algorithm, for the test signer.
    #[cfg(feature = "test-util")]
    pub(crate) const fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::EdDSA => J::EdDSA,
        }
    }
}

/// The error returned when a string names no supported algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JWS algorithm")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or(UnknownAlgorithm)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
        }
    }

    #[test]
    fn none_and_case_variants_are_not_algorithms() {
        for name in [
            "none", "None", "NONE", "nOnE", "rs256", "Rs256", "", "RS256 ",
        ] {
            assert_eq!(name.parse::<Algorithm>(), Err(UnknownAlgorithm), "{name:?}");
        }
    }
}
