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
        let mut parts = request.proof.split('.');
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
        let signing_input_len = header_b64.len() + 1 + payload_b64.len();
        let signing_input = &request.proof.as_bytes()[..signing_input_len];
        if !key.fits(alg) || !key.verify(alg, signing_input, signature) {
            return Err(invalid);
        }

        let claims = parse_object(&decode(payload_b64)?).ok_or(invalid)?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).ok_or(invalid);
        let jti = text("jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(invalid);
        }
        if text("htm")? != request.method {
            return Err(invalid);
        }
        if normalize_htu(text("htu")?).as_deref() != Some(request.htu) {
            return Err(invalid);
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .filter(|&iat| iat <= MAX_NUMERIC_DATE)
            .ok_or(invalid)?;
        let lifetime = self.proof_lifetime.as_secs();
        let expires_at = iat.saturating_add(lifetime).saturating_add(leeway);
        if iat > now.saturating_add(leeway) || now > expires_at {
            return Err(invalid);
        }
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, request.access_token.as_bytes()));
        if text("ath")? != ath {
            return Err(invalid);
        }
        let jkt = jwk_thumbprint(jwk).ok_or(invalid)?;
        let bound_to = token
            .claim("cnf")
            .and_then(|cnf| cnf.get("jkt"))
            .and_then(Value::as_str);
        if bound_to != Some(jkt.as_str()) {
            return Err(invalid);
        }
        if !self
            .replay
            .first_use(&format!("{jkt}:{jti}"), expires_at, now)
        {
            return Err(ErrorKind::DpopProofReplayed);
        }
        Ok(())
    }
}
