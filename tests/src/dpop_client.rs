//! A DPoP client for tests: its own ES256 key, and proofs made here, independently of
//! scopegate (RFC 7638 thumbprint and `ath` computed with aws-lc-rs directly).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopegate_core::Algorithm;
use scopegate_core::test_util::TestIssuer;
use serde_json::{Value, json};

/// A client holding an ES256 key pair.
#[derive(Debug)]
pub struct DpopClient {
    key: TestIssuer,
}

impl Default for DpopClient {
    fn default() -> Self {
        Self {
            key: TestIssuer::with_algorithm(Algorithm::ES256),
        }
    }
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

impl DpopClient {
    /// The RFC 7638 thumbprint of the public key: what `cnf.jkt` names.
    pub fn thumbprint(&self) -> String {
        let jwk = self.key.public_jwk().expect("asymmetric");
        let canonical = format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str().expect("crv"),
            jwk["x"].as_str().expect("x"),
            jwk["y"].as_str().expect("y")
        );
        URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
    }

    /// A proof for `htm` and `htu`, with `ath` for `token` (none when `token` is empty), a
    /// fresh `jti` and `iat` now; `edit` may change header and claims before signing.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        token: &str,
        edit: impl FnOnce(&mut Value, &mut Value),
    ) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let jti = format!("proof-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut header = json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": self.key.public_jwk().expect("asymmetric"),
        });
        let mut claims = json!({"jti": jti, "htm": htm, "htu": htu, "iat": unix_now()});
        if !token.is_empty() {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes())));
        }
        edit(&mut header, &mut claims);
        self.key
            .sign_raw(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }
}
