//! Verification profiles: which token shapes are accepted as access tokens.

/// Which access-token shape the verifier accepts.
///
/// ```
/// use scopegate_core::Profile;
///
/// let strict = Profile::strict_rfc9068();
/// assert!(strict.accepts_typ(Some("at+jwt")));
/// assert!(!strict.accepts_typ(Some("JWT")));
/// assert!(Profile::default().accepts_typ(None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// Access tokens as Auth0 issues them: `typ` is `JWT`, `at+jwt` or absent. The default.
    #[default]
    Auth0,
    /// RFC 9068 JWT access tokens: `typ` must be `at+jwt` (or `application/at+jwt`), and
    /// `sub`, `client_id`, `jti` and `iat` are required.
    StrictRfc9068,
}

impl Profile {
    /// The default profile, for Auth0 and most OIDC issuers.
    pub const fn auth0() -> Self {
        Self::Auth0
    }

    /// The RFC 9068 profile.
    pub const fn strict_rfc9068() -> Self {
        Self::StrictRfc9068
    }

    /// Whether a header `typ` is accepted. Media types compare case-insensitively and
    /// may omit `application/` (RFC 7515 §4.1.9).
    pub fn accepts_typ(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return self == Self::Auth0;
        };
        let subtype = match typ.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
            _ => typ,
        };
        subtype.eq_ignore_ascii_case("at+jwt")
            || (self == Self::Auth0 && subtype.eq_ignore_ascii_case("jwt"))
    }

    /// Claims the profile requires beyond `iss`, `aud` and `exp`.
    pub(crate) const fn required_claims(self) -> &'static [&'static str] {
        match self {
            Self::Auth0 => &[],
            Self::StrictRfc9068 => &["sub", "client_id", "jti", "iat"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0_profile_types() {
        let p = Profile::Auth0;
        for ok in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+jwt"),
            Some("Application/JWT"),
        ] {
            assert!(p.accepts_typ(ok), "{ok:?}");
        }
        for bad in [
            "dpop+jwt",
            "JOSE",
            "id_token+jwt",
            "",
            "application/",
            "secevent+jwt",
            "at+jwt ",
        ] {
            assert!(!p.accepts_typ(Some(bad)), "{bad:?}");
        }
    }

    #[test]
    fn strict_profile_types() {
        let p = Profile::StrictRfc9068;
        assert!(
            p.accepts_typ(Some("at+jwt"))
                && p.accepts_typ(Some("application/at+jwt"))
                && p.accepts_typ(Some("AT+JWT"))
        );
        assert!(!p.accepts_typ(None) && !p.accepts_typ(Some("JWT")));
    }
}
