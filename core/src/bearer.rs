//! Reading bearer credentials from a request (RFC 6750 §2).

use std::borrow::Cow;

use crate::error::{AuthError, ErrorKind};

/// Finds the bearer token of a request.
///
/// * `authorization`: every `Authorization` header value, in order.
/// * `query`: the raw query string, read only when `allow_query` is true
///   (RFC 6750 §2.3 `access_token`; off by default in [`VerifierConfig`](crate::VerifierConfig)).
///
/// No credentials (no header, or a scheme other than `Bearer`) is
/// [`ErrorKind::MissingCredentials`]; a malformed `Bearer` header, two `Authorization`
/// headers, or a token in both places is [`ErrorKind::InvalidRequest`]. A token from the
/// header is borrowed: this path does not allocate.
///
/// ```
/// use scopegate_core::{bearer::extract_bearer, ErrorKind};
///
/// let token = extract_bearer([&b"Bearer abc.def.ghi"[..]], None, false)?;
/// assert_eq!(token, "abc.def.ghi");
///
/// let err = extract_bearer([&b"Bearer two words"[..]], None, false).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
///
/// let err = extract_bearer([&b"Basic dXNlcjpwdw=="[..]], None, false).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingCredentials);
/// # Ok::<(), scopegate_core::AuthError>(())
/// ```
pub fn extract_bearer<'a, I>(
    authorization: I,
    query: Option<&'a str>,
    allow_query: bool,
) -> Result<Cow<'a, str>, AuthError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut headers = authorization.into_iter();
    let first = headers.next();
    if headers.next().is_some() {
        return Err(ErrorKind::InvalidRequest.into());
    }
    let from_header = first.map(parse_authorization).transpose()?.flatten();
    let from_query = match (allow_query, query) {
        (true, Some(query)) => query_token(query)?,
        _ => None,
    };
    match (from_header, from_query) {
        (Some(_), Some(_)) => Err(ErrorKind::InvalidRequest.into()),
        (Some(token), None) => Ok(Cow::Borrowed(token)),
        (None, Some(token)) => Ok(Cow::Owned(token)),
        (None, None) => Err(ErrorKind::MissingCredentials.into()),
    }
}

/// The token of `Authorization: DPoP <token>` (RFC 9449 §7.1): `Ok(None)` when the one
/// `Authorization` header (if any) has another scheme; two headers or a malformed token
/// are [`ErrorKind::InvalidRequest`].
pub(crate) fn dpop_credentials<'a>(
    authorization: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<&'a str>, AuthError> {
    let mut headers = authorization.into_iter();
    let first = headers.next();
    if headers.next().is_some() {
        return Err(ErrorKind::InvalidRequest.into());
    }
    first.map_or(Ok(None), |value| scheme_token(value, b"dpop"))
}

/// Reads one `Authorization` value: `Ok(None)` for another scheme.
fn parse_authorization(value: &[u8]) -> Result<Option<&str>, AuthError> {
    scheme_token(value, b"bearer")
}

/// The token of an `Authorization` value of `scheme` (lower case; matched
/// case-insensitively): `Ok(None)` for another scheme.
fn scheme_token<'a>(value: &'a [u8], wanted: &[u8]) -> Result<Option<&'a str>, AuthError> {
    let value = value.trim_ascii_end();
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(at) => value.split_at(at),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(wanted) {
        return Ok(None);
    }
    let token = trim_leading_spaces(rest);
    as_b64token(token)
        .map(Some)
        .ok_or_else(|| ErrorKind::InvalidRequest.into())
}

fn trim_leading_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// The `access_token` query parameter, if present exactly once and well-formed.
fn query_token(query: &str) -> Result<Option<String>, AuthError> {
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "access_token" {
            continue;
        }
        if found.is_some() {
            return Err(ErrorKind::InvalidRequest.into());
        }
        found = Some(value);
    }
    found
        .map(|value| {
            as_b64token(value.as_bytes())
                .map(str::to_owned)
                .ok_or_else(|| ErrorKind::InvalidRequest.into())
        })
        .transpose()
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn as_b64token(bytes: &[u8]) -> Option<&str> {
    let body_len = bytes.len() - bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &bytes[..body_len];
    let valid = !body.is_empty() && all_b64token_bytes(body);
    // Only ASCII bytes remain, so this cannot fail.
    valid.then(|| std::str::from_utf8(bytes).ok()).flatten()
}

/// Whether every byte is allowed in a `b64token` body. Chunks are checked without an
/// early exit and by comparisons rather than a table, which the compiler turns into
/// vector instructions: a token of 800 bytes is checked on every request.
fn all_b64token_bytes(body: &[u8]) -> bool {
    fn allowed(b: u8) -> bool {
        b.is_ascii_alphanumeric()
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/')
    }
    body.chunks(32)
        .all(|chunk| chunk.iter().fold(true, |ok, &b| ok & allowed(b)))
}

/// Which bytes a `b64token` body may hold (the trailing `=` are handled apart).
#[cfg(test)]
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        byte += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunked_check_agrees_with_the_table_for_every_byte_and_position() {
        for byte in 0..=255u8 {
            for position in [0, 1, 31, 32, 33, 70] {
                let mut body = vec![b'a'; 71];
                body[position] = byte;
                assert_eq!(
                    all_b64token_bytes(&body),
                    B64TOKEN[usize::from(byte)],
                    "{byte:#04x} at {position}"
                );
            }
        }
    }

    fn header(value: &str) -> Result<Cow<'_, str>, ErrorKind> {
        extract_bearer([value.as_bytes()], None, false).map_err(|e| e.kind())
    }

    #[test]
    fn reads_bearer_token_with_any_scheme_case_and_spaces() {
        for value in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER abc.def.ghi",
            "Bearer   abc.def.ghi",
            "Bearer abc.def.ghi  ",
        ] {
            assert_eq!(header(value).as_deref(), Ok("abc.def.ghi"), "{value:?}");
        }
    }

    #[test]
    fn accepts_the_whole_b64token_charset() {
        assert_eq!(header("Bearer aZ09-._~+/==").as_deref(), Ok("aZ09-._~+/=="));
    }

    #[test]
    fn other_schemes_and_absence_are_missing_credentials() {
        assert_eq!(
            header("Basic dXNlcjpwYXNz"),
            Err(ErrorKind::MissingCredentials)
        );
        assert_eq!(header("Bearerabc"), Err(ErrorKind::MissingCredentials));
        assert_eq!(header("DPoP abc"), Err(ErrorKind::MissingCredentials));
        let none: [&[u8]; 0] = [];
        assert_eq!(
            extract_bearer(none, None, false).map_err(|e| e.kind()),
            Err(ErrorKind::MissingCredentials)
        );
    }

    #[test]
    fn malformed_bearer_is_invalid_request() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer  ",
            "Bearer a b",
            "Bearer a,b",
            "Bearer a=b",
            "Bearer =",
            "Bearer \tabc",
            "Bearer ab\"c",
            "Bearer abc\u{e9}",
        ] {
            assert_eq!(header(value), Err(ErrorKind::InvalidRequest), "{value:?}");
        }
        assert_eq!(
            extract_bearer([&b"Bearer ab\xffc"[..]], None, false).map_err(|e| e.kind()),
            Err(ErrorKind::InvalidRequest)
        );
    }

    #[test]
    fn two_authorization_headers_are_invalid_request() {
        let two: [&[u8]; 2] = [b"Bearer abc", b"Bearer abc"];
        assert_eq!(
            extract_bearer(two, None, false).map_err(|e| e.kind()),
            Err(ErrorKind::InvalidRequest)
        );
        let mixed: [&[u8]; 2] = [b"Basic abc", b"Bearer abc"];
        assert_eq!(
            extract_bearer(mixed, None, false).map_err(|e| e.kind()),
            Err(ErrorKind::InvalidRequest)
        );
    }

    #[test]
    fn query_token_is_ignored_unless_enabled() {
        let none: [&[u8]; 0] = [];
        let got = extract_bearer(none, Some("access_token=abc"), false).map_err(|e| e.kind());
        assert_eq!(got, Err(ErrorKind::MissingCredentials));
        let got =
            extract_bearer(none, Some("x=1&access_token=abc.d%2Be"), true).map_err(|e| e.kind());
        assert_eq!(got.as_deref(), Ok("abc.d+e"));
    }

    #[test]
    fn token_in_two_places_or_twice_in_query_is_invalid_request() {
        let got = extract_bearer([&b"Bearer abc"[..]], Some("access_token=abc"), true)
            .map_err(|e| e.kind());
        assert_eq!(got, Err(ErrorKind::InvalidRequest));
        let none: [&[u8]; 0] = [];
        let got =
            extract_bearer(none, Some("access_token=a&access_token=b"), true).map_err(|e| e.kind());
        assert_eq!(got, Err(ErrorKind::InvalidRequest));
        let got = extract_bearer(none, Some("access_token="), true).map_err(|e| e.kind());
        assert_eq!(got, Err(ErrorKind::InvalidRequest));
    }

    #[test]
    fn header_with_other_scheme_does_not_conflict_with_query() {
        let got = extract_bearer([&b"Basic abc"[..]], Some("access_token=tok"), true)
            .map_err(|e| e.kind());
        assert_eq!(got.as_deref(), Ok("tok"));
    }
}
