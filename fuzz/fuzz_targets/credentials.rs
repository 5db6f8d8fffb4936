//! Bearer credentials from arbitrary `Authorization` values and query strings.
//!
//! Input: one flags byte (bit 0: the last piece is a query string; bit 1: query tokens
//! allowed), then pieces separated by 0xFF, each an `Authorization` value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_core::ErrorKind;
use scopegate_core::bearer::extract_bearer;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut headers: Vec<&[u8]> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0xFF).collect()
    };
    let query = if flags & 1 == 1 {
        headers.pop().and_then(|q| std::str::from_utf8(q).ok())
    } else {
        None
    };
    let allow_query = flags & 2 == 2;

    match extract_bearer(headers.iter().copied(), query, allow_query) {
        Ok(token) => {
            assert!(headers.len() <= 1, "two Authorization headers accepted");
            let body = token.trim_end_matches('=');
            assert!(!body.is_empty(), "empty token accepted");
            assert!(
                body.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
                "non-b64token character in {token:?}"
            );
            match headers.first() {
                // From the header: `Bearer` (any case), spaces, the token, trailing spaces.
                Some(value) if value.len() >= 7 && value[..7].eq_ignore_ascii_case(b"bearer ") => {
                    let after = std::str::from_utf8(&value[7..]).expect("ASCII token");
                    let trimmed = after
                        .trim_start_matches(' ')
                        .trim_end_matches(|c: char| c.is_ascii_whitespace());
                    assert_eq!(trimmed, &*token);
                }
                // Otherwise it must have come from an allowed query string.
                _ => {
                    assert!(allow_query, "query token read while not allowed");
                    assert!(query.is_some(), "a token from nowhere");
                }
            }
        }
        Err(error) => {
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::MissingCredentials | ErrorKind::InvalidRequest
                ),
                "unexpected {:?}",
                error.kind()
            );
            if headers.len() >= 2 {
                assert_eq!(error.kind(), ErrorKind::InvalidRequest);
            }
        }
    }
});
