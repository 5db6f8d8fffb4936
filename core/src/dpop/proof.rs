//! Checking one DPoP proof against its request and access token (RFC 9449 §4.3, §7.1).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{Dpop, jwk_thumbprint, normalize_htu};
use crate::algorithm::Algorithm;
use crate::error::ErrorKind;
use crate::json::parse_object;
use crate::keys::VerificationKey;
use crate::token::VerifiedToken;
use crate::validation::MAX_NUMERIC_DATE;

/// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// The longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;

/// What a proof is checked against.
#[derive(Debug)]
pub(crate) struct ProofRequest<'a> {
    /// The `DPoP` header value.
    pub(crate) proof: &'a str,
    /// The request method.
    pub(crate) method: &'a str,
    /// The normalised URL the proof's `htu` must name.
    pub(crate) htu: &'a str,
    /// The access token presented with it.
    pub(crate) access_token: &'a str,
}

/// A proof whose signature, form, `htm`, `htu` and `iat` passed.
#[derive(Debug)]
struct CheckedProof {
    /// The RFC 7638 thumbprint of its key.
    jkt: String,
    jti: String,
    ath: Option<String>,
    /// When its id may be forgotten.
    expires_at: u64,
}

impl Dpop {
    /// Checks `request.proof` for a verified `token` at `now` (seconds), tolerating
    /// `leeway` seconds of clock skew. The proof id is recorded only when every other
    /// check passed.
    pub(crate) fn check(
        &self,
        request: &ProofRequest<'_>,
        token: &VerifiedToken,
        now: u64,
        leeway: u64,
    ) -> Result<(), ErrorKind> {
        let invalid = ErrorKind::InvalidDpopProof;
        let proof = self.checked_proof(request.proof, request.method, request.htu, now, leeway)?;
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, request.access_token.as_bytes()));
        if proof.ath.as_deref() != Some(ath.as_str()) {
            return Err(invalid);
        }
        if token.dpop_thumbprint() != Some(proof.jkt.as_str()) {
            return Err(invalid);
        }
        self.remember(&proof, now)
    }

    /// Checks a proof sent to a token endpoint (RFC 9449 §5) at `url` with `method`, and
    /// returns the thumbprint the issued token must carry as `cnf.jkt`. The proof id is
    /// recorded, so the same proof cannot obtain a second token.
    ///
    /// ```
    /// use scopegate_core::{Dpop, ErrorKind};
    ///
    /// let dpop = Dpop::allowed();
    /// let refused = dpop.token_request_thumbprint("not.a.proof", "POST", "https://issuer.example/oauth/token");
    /// assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidDpopProof);
    /// ```
    pub fn token_request_thumbprint(
        &self,
        proof: &str,
        method: &str,
        url: &str,
    ) -> Result<String, crate::AuthError> {
        let htu = normalize_htu(url).ok_or(ErrorKind::InvalidDpopProof)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let leeway = crate::VerifierConfig::DEFAULT_LEEWAY.as_secs();
        let proof = self.checked_proof(proof, method, &htu, now, leeway)?;
        self.remember(&proof, now)?;
        Ok(proof.jkt)
    }

    /// Records the proof's id; a second use is [`ErrorKind::DpopProofReplayed`].
    fn remember(&self, proof: &CheckedProof, now: u64) -> Result<(), ErrorKind> {
        let id = format!("{}:{}", proof.jkt, proof.jti);
        if self.replay.first_use(&id, proof.expires_at, now) {
            Ok(())
        } else {
            Err(ErrorKind::DpopProofReplayed)
        }
    }

    /// Everything about a proof but the token it comes with and its id's first use.
    fn checked_proof(
        &self,
        proof: &str,
        method: &str,
        htu: &str,
        now: u64,
        leeway: u64,
    ) -> Result<CheckedProof, ErrorKind> {
        let invalid = ErrorKind::InvalidDpopProof;
        let mut parts = proof.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid);
        };
        if header_b64.is_empty() || payload_b64.is_empty() || signature.is_empty() {
            return Err(invalid);
        }
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| invalid);
        let header = parse_object(&decode(header_b64)?).ok_or(invalid)?;
        let typ = header.get("typ").and_then(Value::as_str).ok_or(invalid)?;
        if !typ.eq_ignore_ascii_case("dpop+jwt") || header.contains_key("crit") {
            return Err(invalid);
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|name| name.parse::<Algorithm>().ok())
            .filter(|alg| self.algorithms.contains(alg) && !alg.is_hmac())
            .ok_or(invalid)?;
        let jwk = header
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or(invalid)?;
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(invalid);
        }
        let key = VerificationKey::from_jwk(&Value::Object(jwk.clone())).map_err(|_| invalid)?;
        let signing_input = &proof.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        if !key.fits(alg) || !key.verify(alg, signing_input, signature) {
            return Err(invalid);
        }

        let claims = parse_object(&decode(payload_b64)?).ok_or(invalid)?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).ok_or(invalid);
        let jti = text("jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(invalid);
        }
        if text("htm")? != method {
            return Err(invalid);
        }
        if normalize_htu(text("htu")?).as_deref() != Some(htu) {
            return Err(invalid);
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .filter(|&iat| iat <= MAX_NUMERIC_DATE)
            .ok_or(invalid)?;
        let expires_at = iat
            .saturating_add(self.proof_lifetime.as_secs())
            .saturating_add(leeway);
        if iat > now.saturating_add(leeway) || now > expires_at {
            return Err(invalid);
        }
        let ath = match claims.get("ath") {
            None => None,
            Some(Value::String(ath)) => Some(ath.clone()),
            Some(_) => return Err(invalid),
        };
        Ok(CheckedProof {
            jkt: jwk_thumbprint(jwk).ok_or(invalid)?,
            jti: jti.to_owned(),
            ath,
            expires_at,
        })
    }
}
