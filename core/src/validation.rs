//! The registered-claim checks (RFC 7519 §4.1, RFC 9068 §4, RFC 8725).

use serde_json::{Map, Value};

use crate::error::ErrorKind;
use crate::profile::Profile;

/// Registered claims that must be strings when present.
const STRING_CLAIMS: [&str; 6] = ["sub", "azp", "client_id", "jti", "gty", "iss"];

/// Checks of `iss`, `aud`, times, `typ`, profile claims and `cnf`, built from configuration.
#[derive(Debug, Clone)]
pub(crate) struct ClaimsPolicy {
    /// DPoP is configured: bound (`cnf`) tokens pass here; their proof is checked per
    /// request.
    pub(crate) accept_bound: bool,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: u64,
    pub(crate) max_age: Option<u64>,
    pub(crate) profile: Profile,
}

impl ClaimsPolicy {
    /// Validates the claims at `now` (seconds since the epoch) for an issuer known by
    /// `issuer_names`; returns `exp`.
    pub(crate) fn validate(
        &self,
        typ: Option<&str>,
        claims: &Map<String, Value>,
        now: u64,
        issuer_names: &[String],
    ) -> Result<u64, ErrorKind> {
        if !self.profile.accepts_typ(typ) {
            return Err(ErrorKind::InvalidType);
        }
        // RFC 7800: a `cnf` claim binds the token to a key the bearer must prove; a plain
        // bearer presentation cannot, so the token is refused.
        if claims.contains_key("cnf") && !self.accept_bound {
            return Err(ErrorKind::SenderConstrained);
        }
        for name in STRING_CLAIMS {
            if claims.get(name).is_some_and(|v| !v.is_string()) {
                return Err(ErrorKind::InvalidClaim);
            }
        }
        for name in self.profile.required_claims() {
            if !claims.contains_key(*name) {
                return Err(ErrorKind::MissingClaim);
            }
        }

        match claims.get("iss") {
            Some(Value::String(iss)) if issuer_names.iter().any(|name| name == iss) => {}
            Some(_) => return Err(ErrorKind::InvalidIssuer),
            None => return Err(ErrorKind::MissingClaim),
        }
        self.check_audience(claims.get("aud"))?;

        let exp = numeric_date(claims, "exp")?.ok_or(ErrorKind::MissingClaim)?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(ErrorKind::Expired);
        }
        if let Some(nbf) = numeric_date(claims, "nbf")?
            && nbf > now.saturating_add(self.leeway)
        {
            return Err(ErrorKind::NotYetValid);
        }
        let iat = numeric_date(claims, "iat")?;
        if let Some(iat) = iat
            && iat > now.saturating_add(self.leeway)
        {
            return Err(ErrorKind::IssuedInFuture);
        }
        if let Some(max_age) = self.max_age {
            let iat = iat.ok_or(ErrorKind::MissingClaim)?;
            if now.saturating_sub(iat) > max_age.saturating_add(self.leeway) {
                return Err(ErrorKind::TooOld);
            }
        }
        Ok(exp)
    }

    fn check_audience(&self, aud: Option<&Value>) -> Result<(), ErrorKind> {
        let accepted = |aud: &str| self.audiences.iter().any(|a| a == aud);
        match aud {
            None => Err(ErrorKind::MissingClaim),
            Some(Value::String(aud)) if accepted(aud) => Ok(()),
            Some(Value::String(_)) => Err(ErrorKind::InvalidAudience),
            Some(Value::Array(items))
                if !items.is_empty() && items.iter().all(Value::is_string) =>
            {
                if items.iter().filter_map(Value::as_str).any(accepted) {
                    Ok(())
                } else {
                    Err(ErrorKind::InvalidAudience)
                }
            }
            Some(_) => Err(ErrorKind::InvalidClaim),
        }
    }
}

/// The largest NumericDate accepted: 2^53 − 1, the largest integer every JSON
/// implementation represents exactly (I-JSON, RFC 7493 §2.2).
pub(crate) const MAX_NUMERIC_DATE: u64 = (1 << 53) - 1;

/// A NumericDate claim: a non-negative integer number of seconds up to
/// [`MAX_NUMERIC_DATE`], or absent. Strings, floats, negatives, `null` and larger numbers
/// are [`ErrorKind::InvalidClaim`].
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, ErrorKind> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|&seconds| seconds <= MAX_NUMERIC_DATE)
            .map(Some)
            .ok_or(ErrorKind::InvalidClaim),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;

    fn policy() -> ClaimsPolicy {
        ClaimsPolicy {
            accept_bound: false,
            audiences: vec!["api".into()],
            leeway: 5,
            max_age: None,
            profile: Profile::Auth0,
        }
    }

    fn check(policy: &ClaimsPolicy, extra: Value) -> Result<u64, ErrorKind> {
        let mut claims = json!({"iss": "https://tenant.example/", "aud": "api", "exp": NOW + 60});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            if v == json!("<remove>") {
                claims.as_object_mut().map(|c| c.remove(&k));
            } else {
                claims[k] = v;
            }
        }
        let names = ["https://tenant.example/".to_owned()];
        policy.validate(None, claims.as_object().expect("object"), NOW, &names)
    }

    #[test]
    fn valid_claims_return_exp() {
        assert_eq!(check(&policy(), json!({})), Ok(NOW + 60));
    }

    #[test]
    fn expiry_honours_leeway_exactly() {
        assert_eq!(check(&policy(), json!({"exp": NOW - 4})), Ok(NOW - 4));
        assert_eq!(
            check(&policy(), json!({"exp": NOW - 5})),
            Err(ErrorKind::Expired)
        );
        assert_eq!(
            check(
                &ClaimsPolicy {
                    leeway: 0,
                    ..policy()
                },
                json!({"exp": NOW})
            ),
            Err(ErrorKind::Expired)
        );
    }

    #[test]
    fn nbf_and_iat_honour_leeway() {
        assert!(check(&policy(), json!({"nbf": NOW + 5})).is_ok());
        assert_eq!(
            check(&policy(), json!({"nbf": NOW + 6})),
            Err(ErrorKind::NotYetValid)
        );
        assert!(check(&policy(), json!({"iat": NOW + 5})).is_ok());
        assert_eq!(
            check(&policy(), json!({"iat": NOW + 6})),
            Err(ErrorKind::IssuedInFuture)
        );
    }

    #[test]
    fn max_age_requires_recent_iat() {
        let p = ClaimsPolicy {
            max_age: Some(300),
            ..policy()
        };
        assert!(check(&p, json!({"iat": NOW - 305})).is_ok());
        assert_eq!(check(&p, json!({"iat": NOW - 306})), Err(ErrorKind::TooOld));
        assert_eq!(check(&p, json!({})), Err(ErrorKind::MissingClaim));
    }

    #[test]
    fn wrong_types_are_invalid_claims() {
        for extra in [
            json!({"exp": "1700000060"}),
            json!({"exp": 1.7e9}),
            json!({"exp": -1}),
            json!({"exp": null}),
            json!({"nbf": "0"}),
            json!({"iat": true}),
            json!({"aud": null}),
            json!({"aud": 7}),
            json!({"aud": []}),
            json!({"aud": ["api", 1]}),
            json!({"sub": 1}),
            json!({"azp": ["x"]}),
            json!({"iss": ["https://tenant.example/"]}),
            json!({"exp": MAX_NUMERIC_DATE + 1}),
            json!({"exp": u64::MAX}),
            json!({"nbf": MAX_NUMERIC_DATE + 1}),
            json!({"iat": u64::MAX}),
        ] {
            assert_eq!(
                check(&policy(), extra.clone()),
                Err(ErrorKind::InvalidClaim),
                "{extra}"
            );
        }
    }

    #[test]
    fn numeric_dates_up_to_2_pow_53_minus_1_are_accepted() {
        let far = MAX_NUMERIC_DATE;
        assert_eq!(check(&policy(), json!({"exp": far})), Ok(far));
        assert!(check(&policy(), json!({"exp": far, "iat": 0, "nbf": 0})).is_ok());
    }

    #[test]
    fn issuer_is_compared_exactly() {
        for iss in [
            "https://tenant.example",
            "https://TENANT.example/",
            "https://tenant.example/ ",
            "http://tenant.example/",
        ] {
            assert_eq!(
                check(&policy(), json!({"iss": iss})),
                Err(ErrorKind::InvalidIssuer),
                "{iss}"
            );
        }
        assert_eq!(
            check(&policy(), json!({"iss": "<remove>"})),
            Err(ErrorKind::MissingClaim)
        );
    }

    #[test]
    fn audience_string_or_array() {
        assert!(
            check(
                &policy(),
                json!({"aud": ["https://tenant.example/userinfo", "api"]})
            )
            .is_ok()
        );
        assert_eq!(
            check(&policy(), json!({"aud": "other"})),
            Err(ErrorKind::InvalidAudience)
        );
        assert_eq!(
            check(&policy(), json!({"aud": ["other", "API"]})),
            Err(ErrorKind::InvalidAudience)
        );
        assert_eq!(
            check(&policy(), json!({"aud": "<remove>"})),
            Err(ErrorKind::MissingClaim)
        );
    }

    #[test]
    fn exp_is_required_and_cnf_refused() {
        assert_eq!(
            check(&policy(), json!({"exp": "<remove>"})),
            Err(ErrorKind::MissingClaim)
        );
        assert_eq!(
            check(&policy(), json!({"cnf": {"jkt": "abc"}})),
            Err(ErrorKind::SenderConstrained)
        );
    }
}
