//! The JOSE header of a compact JWS (RFC 7515 §4).

use serde_json::Value;

use crate::algorithm::Algorithm;
use crate::error::ErrorKind;
use crate::json::parse_object;

/// What verification reads from the header. `jwk`, `jku`, `x5u`, `x5c` and `x5t` are
/// ignored: keys come from configuration only, never from the token.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

impl Header {
    /// Parses the decoded header, checking `alg` against the configured allow-list.
    pub(crate) fn parse(bytes: &[u8], allowed: &[Algorithm]) -> Result<Self, ErrorKind> {
        let header = parse_object(bytes).ok_or(ErrorKind::MalformedToken)?;
        // Parameters of an encrypted token (JWE, RFC 7516): not a signed token.
        if header.contains_key("enc") || header.contains_key("zip") {
            return Err(ErrorKind::MalformedToken);
        }
        let alg = match header.get("alg") {
            Some(Value::String(name)) => name,
            _ => return Err(ErrorKind::MalformedToken),
        };
        let alg = alg
            .parse::<Algorithm>()
            .ok()
            .filter(|alg| allowed.contains(alg))
            .ok_or(ErrorKind::DisallowedAlgorithm)?;
        // RFC 7515 §4.1.11: no extension is understood here, so any `crit` is fatal.
        if header.contains_key("crit") {
            return Err(ErrorKind::CriticalHeader);
        }
        Ok(Self {
            alg,
            kid: optional_string(header.get("kid"))?,
            typ: optional_string(header.get("typ"))?,
        })
    }
}

fn optional_string(value: Option<&Value>) -> Result<Option<String>, ErrorKind> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ErrorKind::MalformedToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RS256: &[Algorithm] = &[Algorithm::RS256];

    fn parse(json: &str) -> Result<Header, ErrorKind> {
        Header::parse(json.as_bytes(), RS256)
    }

    #[test]
    fn reads_alg_kid_typ() {
        let header =
            parse(r#"{"alg":"RS256","kid":"k1","typ":"JWT","jku":"https://evil.example/jwks"}"#)
                .unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref(), header.typ.as_deref()),
            (Algorithm::RS256, Some("k1"), Some("JWT"))
        );
    }

    #[test]
    fn alg_must_be_allowed() {
        for json in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"NONE"}"#,
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"rs256"}"#,
            r#"{"alg":"ES256"}"#,
        ] {
            assert_eq!(
                parse(json).err(),
                Some(ErrorKind::DisallowedAlgorithm),
                "{json}"
            );
        }
    }

    #[test]
    fn malformed_headers() {
        for json in [
            r#"{}"#,
            r#"{"alg":256}"#,
            r#"{"alg":["RS256"]}"#,
            r#"{"alg":"RS256","kid":1}"#,
            r#"{"alg":"RS256","typ":null}"#,
            r#"{"alg":"RS256","alg":"RS256"}"#,
            r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
            r#"{"alg":"RS256","zip":"DEF"}"#,
        ] {
            assert_eq!(parse(json).err(), Some(ErrorKind::MalformedToken), "{json}");
        }
    }

    #[test]
    fn any_crit_is_rejected() {
        for json in [
            r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"RS256","crit":[]}"#,
            r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
        ] {
            assert_eq!(parse(json).err(), Some(ErrorKind::CriticalHeader), "{json}");
        }
    }
}
