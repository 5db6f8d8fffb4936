//! DPoP (RFC 9449): access tokens bound to a key the client proves it holds, request by
//! request.

mod proof;
mod replay;
mod thumbprint;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use proof::ProofRequest;
pub use replay::{MemoryReplayStore, ReplayStore};
pub(crate) use thumbprint::jwk_thumbprint;

use crate::algorithm::Algorithm;
use crate::config::ConfigError;

/// Whether a route accepts plain bearer tokens beside DPoP-bound ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopMode {
    /// `Authorization: DPoP` with a proof, or `Bearer` for tokens that are not bound
    /// (a bound token presented as `Bearer` is still refused, RFC 9449 §7.2).
    Allowed,
    /// Only `Authorization: DPoP` with a valid proof; `Bearer` counts as no credentials.
    Required,
}

/// DPoP settings, given to [`VerifierConfig::dpop`](crate::VerifierConfig::dpop). Without
/// them DPoP is off: the `DPoP` scheme is not read and bound (`cnf`) tokens are refused.
///
/// A proof (the `DPoP` header) must be a JWS of `typ` `dpop+jwt`, signed with an allowed
/// asymmetric algorithm by the public key in its `jwk` header (no private members), whose
/// RFC 7638 thumbprint is the token's `cnf.jkt`; its `htm` is the request method, its
/// `htu` the request URL without query and fragment (normalised per RFC 3986), its `iat`
/// within [`proof_lifetime`](Self::proof_lifetime) (plus the verifier's leeway), its
/// `ath` the hash of the access token, and its `jti` not seen before.
///
/// ```
/// use scopegate_core::{Dpop, VerifierConfig};
///
/// let verifier = VerifierConfig::new("https://issuer.example/", "https://api.example/")
///     .dpop(Dpop::required().public_base_url("https://api.example")?)
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), scopegate_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Dpop {
    pub(crate) mode: DpopMode,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) proof_lifetime: Duration,
    pub(crate) replay: Arc<dyn ReplayStore>,
    pub(crate) public_base_url: Option<url::Url>,
}

impl Dpop {
    /// How long after its `iat` a proof is accepted by default: 60 seconds.
    pub const DEFAULT_PROOF_LIFETIME: Duration = Duration::from_secs(60);

    /// DPoP-bound tokens with proofs, and unbound bearer tokens.
    pub fn allowed() -> Self {
        Self::with_mode(DpopMode::Allowed)
    }

    /// DPoP-bound tokens with proofs only.
    pub fn required() -> Self {
        Self::with_mode(DpopMode::Required)
    }

    fn with_mode(mode: DpopMode) -> Self {
        Self {
            mode,
            algorithms: vec![
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::PS256,
                Algorithm::RS256,
                Algorithm::EdDSA,
            ],
            proof_lifetime: Self::DEFAULT_PROOF_LIFETIME,
            replay: Arc::new(MemoryReplayStore::default()),
            public_base_url: None,
        }
    }

    /// The algorithms a proof may be signed with (asymmetric only; default ES256, ES384,
    /// PS256, RS256, EdDSA). Announced in `WWW-Authenticate: DPoP algs="..."`.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How long after its `iat` a proof is accepted; proof ids are remembered as long.
    pub fn proof_lifetime(mut self, lifetime: Duration) -> Self {
        self.proof_lifetime = lifetime;
        self
    }

    /// Where used proof ids are remembered (default: [`MemoryReplayStore`], per process).
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.replay = Arc::new(store);
        self
    }

    /// The public origin clients call (`https://api.example.com`), for `htu`. Without it,
    /// the request's `Host` header over `http` is used: set it behind TLS termination or
    /// a proxy.
    pub fn public_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        let parsed = url::Url::parse(url).map_err(|_| ConfigError::InvalidUrl)?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(ConfigError::InvalidUrl);
        }
        self.public_base_url = Some(parsed);
        Ok(self)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.algorithms.is_empty() || self.algorithms.iter().any(|alg| alg.is_hmac()) {
            return Err(ConfigError::DpopAlgorithms);
        }
        Ok(())
    }

    /// `algs="..."` of the challenge.
    pub(crate) fn algs(&self) -> String {
        let names: Vec<&str> = self.algorithms.iter().map(|alg| alg.as_str()).collect();
        names.join(" ")
    }

    /// The `htu` a proof for this request must carry: the public base URL (or
    /// `http://<host>`) with the request path, normalised; `None` if it cannot be formed.
    /// `target` may be absolute (HTTP/2, or a request to a proxy); the public base URL
    /// still decides scheme and authority when set.
    pub(crate) fn expected_htu(&self, target: &str, host: Option<&str>) -> Option<String> {
        let target = target.split(['?', '#']).next().unwrap_or_default();
        let absolute = target.starts_with("http://") || target.starts_with("https://");
        match &self.public_base_url {
            Some(base) => {
                let path = if absolute {
                    url::Url::parse(target).ok()?.path().to_owned()
                } else {
                    target.to_owned()
                };
                normalize_htu(&format!("{}{path}", base.origin().ascii_serialization()))
            }
            None if absolute => normalize_htu(target),
            None => normalize_htu(&format!("http://{}{target}", host?)),
        }
    }
}

/// An HTTP(S) URL without query and fragment, normalised as the `url` crate parses it
/// (RFC 3986 §6.2.2: case of scheme and host, default port, dot segments, percent-encoding).
pub(crate) fn normalize_htu(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return None;
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    Some(parsed.into())
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("mode", &self.mode)
            .field("algorithms", &self.algorithms)
            .field("proof_lifetime", &self.proof_lifetime)
            .field("replay", &self.replay)
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(url::Url::as_str),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_normalised_and_loses_query_and_fragment() {
        for (url, want) in [
            (
                "HTTPS://API.Example.com:443/a/./b/../c?x=1#f",
                Some("https://api.example.com/a/c"),
            ),
            (
                "http://api.example.com:80/orders",
                Some("http://api.example.com/orders"),
            ),
            (
                "http://api.example.com:8080/%7Eu",
                Some("http://api.example.com:8080/%7Eu"),
            ),
            ("ftp://api.example.com/", None),
            ("/relative", None),
        ] {
            assert_eq!(normalize_htu(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn the_expected_htu_comes_from_the_base_url_or_the_host() {
        let plain = Dpop::required();
        assert_eq!(
            plain
                .expected_htu("/api/orders?page=2", Some("127.0.0.1:3000"))
                .as_deref(),
            Some("http://127.0.0.1:3000/api/orders")
        );
        assert_eq!(plain.expected_htu("/api/orders", None), None);
        let public = Dpop::required()
            .public_base_url("https://API.example.com")
            .expect("url");
        assert_eq!(
            public
                .expected_htu("/api/../api/orders", Some("internal:8080"))
                .as_deref(),
            Some("https://api.example.com/api/orders")
        );
    }
}
