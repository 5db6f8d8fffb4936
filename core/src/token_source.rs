//! Where a protected route reads the access token: the `Authorization` header (RFC 6750),
//! a header of its own, or a cookie.

use std::borrow::Cow;

use crate::bearer::{as_b64token, extract_bearer};
use crate::error::{AuthError, ErrorKind};

/// One place a token may come from. Routes read [`TokenSource::Authorization`] unless their
/// layer names other sources (`AuthLayer::token_sources` in `scopegate-tower`,
/// `ScopeGate::token_sources` in `scopegate-actix`).
///
/// ```
/// use scopegate_core::TokenSource;
///
/// let sources = [TokenSource::Authorization, TokenSource::cookie("access_token")];
/// let cookie = [&b"theme=dark; access_token=abc.def.ghi"[..]];
/// let token = TokenSource::find(&sources, |name| match name {
///     "cookie" => cookie.to_vec(),
///     _ => Vec::new(),
/// }, None, false)?;
/// assert_eq!(token, "abc.def.ghi");
/// # Ok::<(), scopegate_core::AuthError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (and the `access_token` query parameter where the
    /// verifier allows it).
    Authorization,
    /// A header whose whole value is the token, such as `X-Access-Token: <token>`
    /// (lower-case name).
    Header(String),
    /// A cookie whose value is the token.
    Cookie(String),
}

impl TokenSource {
    /// A header carrying the bare token; the name is matched case-insensitively.
    pub fn header(name: &str) -> Self {
        Self::Header(name.to_ascii_lowercase())
    }

    /// A cookie carrying the token; the name is matched exactly.
    pub fn cookie(name: impl Into<String>) -> Self {
        Self::Cookie(name.into())
    }

    /// Finds the token of a request. `headers(name)` returns every value of the header
    /// `name` (lower case). Sources are tried in order and the first that holds
    /// credentials is used; one that holds malformed credentials is
    /// [`ErrorKind::InvalidRequest`], as are two values of a token header or two cookies
    /// of the token's name. Nothing anywhere is [`ErrorKind::MissingCredentials`].
    pub fn find<'a, F, H>(
        sources: &[TokenSource],
        headers: F,
        query: Option<&'a str>,
        allow_query: bool,
    ) -> Result<Cow<'a, str>, AuthError>
    where
        F: Fn(&str) -> H,
        H: IntoIterator<Item = &'a [u8]>,
    {
        for source in sources {
            let found = match source {
                Self::Authorization => {
                    match extract_bearer(headers("authorization"), query, allow_query) {
                        Ok(token) => Some(token),
                        Err(error) if error.kind() == ErrorKind::MissingCredentials => None,
                        Err(error) => return Err(error),
                    }
                }
                Self::Header(name) => header_token(headers(name))?.map(Cow::Borrowed),
                Self::Cookie(name) => cookie_token(headers("cookie"), name)?.map(Cow::Borrowed),
            };
            if let Some(token) = found {
                return Ok(token);
            }
        }
        Err(ErrorKind::MissingCredentials.into())
    }
}

/// The one value of a token header, which must be a `b64token`.
fn header_token<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<&'a str>, AuthError> {
    let mut values = values.into_iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ErrorKind::InvalidRequest.into());
    }
    as_b64token(value.trim_ascii())
        .map(Some)
        .ok_or_else(|| ErrorKind::InvalidRequest.into())
}

/// The value of the one cookie named `name` across every `Cookie` header (RFC 6265
/// §5.4 syntax, a quoted value unquoted), which must be a `b64token`.
fn cookie_token<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Result<Option<&'a str>, AuthError> {
    let mut found = None;
    for value in values {
        for pair in value.split(|&b| b == b';') {
            let Some(at) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (cookie, rest) = pair.split_at(at);
            if cookie.trim_ascii() != name.as_bytes() {
                continue;
            }
            if found.is_some() {
                return Err(ErrorKind::InvalidRequest.into());
            }
            let raw = rest[1..].trim_ascii();
            let unquoted = raw
                .strip_prefix(b"\"")
                .and_then(|inner| inner.strip_suffix(b"\""))
                .unwrap_or(raw);
            found = Some(as_b64token(unquoted).ok_or(ErrorKind::InvalidRequest)?);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(
        sources: &[TokenSource],
        headers: &[(&str, &'static str)],
    ) -> Result<String, ErrorKind> {
        TokenSource::find(
            sources,
            |name| {
                headers
                    .iter()
                    .filter(move |(n, _)| *n == name)
                    .map(|(_, v)| v.as_bytes())
                    .collect::<Vec<_>>()
            },
            None,
            false,
        )
        .map(Cow::into_owned)
        .map_err(|e| e.kind())
    }

    #[test]
    fn cookies_are_read_by_exact_name_from_every_cookie_header() {
        let cookie = [TokenSource::cookie("at")];
        for (headers, want) in [
            (vec![("cookie", "at=a.b.c")], Ok("a.b.c")),
            (vec![("cookie", "x=1;  at = a.b.c ; y=2")], Ok("a.b.c")),
            (
                vec![("cookie", "x=1"), ("cookie", "at=\"a.b.c\"")],
                Ok("a.b.c"),
            ),
            (
                vec![("cookie", "AT=a.b.c; att=x")],
                Err(ErrorKind::MissingCredentials),
            ),
            (vec![], Err(ErrorKind::MissingCredentials)),
            (
                vec![("cookie", "at=a.b.c; at=d.e.f")],
                Err(ErrorKind::InvalidRequest),
            ),
            (
                vec![("cookie", "at=a"), ("cookie", "at=b")],
                Err(ErrorKind::InvalidRequest),
            ),
            (vec![("cookie", "at=a b")], Err(ErrorKind::InvalidRequest)),
            (vec![("cookie", "at=")], Err(ErrorKind::InvalidRequest)),
        ] {
            assert_eq!(
                find(&cookie, &headers),
                want.map(str::to_owned),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn a_token_header_holds_exactly_one_bare_token() {
        let header = [TokenSource::header("X-Access-Token")];
        assert_eq!(
            find(&header, &[("x-access-token", " a.b.c ")]),
            Ok("a.b.c".into())
        );
        for bad in ["Bearer a.b.c", "a,b", ""] {
            assert_eq!(
                find(&header, &[("x-access-token", bad)]),
                Err(ErrorKind::InvalidRequest),
                "{bad:?}"
            );
        }
        assert_eq!(
            find(&header, &[("x-access-token", "a"), ("x-access-token", "b")]),
            Err(ErrorKind::InvalidRequest)
        );
    }

    #[test]
    fn the_first_source_holding_credentials_wins_and_malformed_ones_stop() {
        let sources = [TokenSource::Authorization, TokenSource::cookie("at")];
        assert_eq!(
            find(
                &sources,
                &[("cookie", "at=c.c.c"), ("authorization", "Bearer h.h.h")]
            ),
            Ok("h.h.h".into())
        );
        assert_eq!(
            find(&sources, &[("cookie", "at=c.c.c")]),
            Ok("c.c.c".into())
        );
        assert_eq!(
            find(
                &sources,
                &[("cookie", "at=c.c.c"), ("authorization", "Basic eA==")]
            ),
            Ok("c.c.c".into()),
            "another scheme is no bearer credential"
        );
        assert_eq!(
            find(
                &sources,
                &[
                    ("cookie", "at=c.c.c"),
                    ("authorization", "Bearer two words")
                ]
            ),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            find(
                &[TokenSource::cookie("at")],
                &[("authorization", "Bearer h.h.h")]
            ),
            Err(ErrorKind::MissingCredentials),
            "a source not configured is not read"
        );
    }
}
