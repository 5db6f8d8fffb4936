//! Tokens from arbitrary `Authorization`, token-header and `Cookie` values, read through
//! `TokenSource::find` with an arbitrary order of sources, checked against a model of
//! the rules written apart from the code under test.
//!
//! Input: one byte choosing the sources and their order, then pieces separated by 0xFF,
//! each a header: its first byte picks the name (`authorization`, `x-access-token`,
//! `cookie`), the rest is the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_core::{ErrorKind, TokenSource};

const NAMES: [&str; 3] = ["authorization", "x-access-token", "cookie"];
const COOKIE: &str = "at";

/// RFC 6750 `b64token`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The values of every cookie named `at` in `headers` (model: `;`-separated pairs, name
/// before the first `=`, spaces and tabs around name and value ignored, one pair of
/// double quotes around the value removed).
fn cookies<'a>(headers: &[(usize, &'a [u8])]) -> Vec<&'a [u8]> {
    let mut found = Vec::new();
    for (_, value) in headers.iter().filter(|(name, _)| *name == 2) {
        for pair in value.split(|&b| b == b';') {
            let Some(at) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            if pair[..at].trim_ascii() == COOKIE.as_bytes() {
                let raw = pair[at + 1..].trim_ascii();
                let unquoted = match raw {
                    [b'"', inner @ .., b'"'] => inner,
                    _ => raw,
                };
                found.push(unquoted);
            }
        }
    }
    found
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    // Three sources, each included or not, in one of two orders.
    let mut order = vec![0usize, 1, 2];
    if choice & 8 == 8 {
        order.reverse();
    }
    order.retain(|i| choice & (1 << i) != 0);
    let sources: Vec<TokenSource> = order
        .iter()
        .map(|&i| match i {
            0 => TokenSource::Authorization,
            1 => TokenSource::header("X-Access-Token"),
            _ => TokenSource::cookie(COOKIE),
        })
        .collect();
    let headers: Vec<(usize, &[u8])> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0xFF)
            .filter_map(|piece| piece.split_first())
            .map(|(&name, value)| (usize::from(name) % 3, value))
            .collect()
    };
    let values = |name: usize| -> Vec<&[u8]> {
        headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect()
    };
    let result = TokenSource::find(
        &sources,
        |name| {
            let index = NAMES
                .iter()
                .position(|n| *n == name)
                .expect("a known header");
            values(index)
        },
        None,
        false,
    );
    // Whether a source holds anything at all (it may still be malformed).
    let holds = |i: usize| match i {
        1 => !values(1).is_empty(),
        2 => !cookies(&headers).is_empty(),
        _ => false,
    };
    match result {
        Ok(token) => {
            assert!(is_b64token(&token), "not a b64token: {token:?}");
            // Some source gave it, and that source's rule holds.
            let from_header = values(1).len() == 1
                && std::str::from_utf8(values(1)[0]).is_ok_and(|v| v.trim_ascii() == &*token);
            let cookie_values = cookies(&headers);
            let from_cookie = cookie_values.len() == 1 && cookie_values[0] == token.as_bytes();
            let from_authorization = values(0).len() == 1;
            let giver = order.iter().position(|&i| match i {
                0 => from_authorization,
                1 => from_header,
                _ => from_cookie,
            });
            let giver = giver.unwrap_or_else(|| panic!("{token:?} from no source"));
            // Every source before it held nothing of its kind.
            for &earlier in &order[..giver] {
                assert!(
                    !holds(earlier),
                    "source {earlier} skipped while holding credentials"
                );
            }
        }
        Err(error) => {
            let kind = error.kind();
            assert!(
                matches!(
                    kind,
                    ErrorKind::MissingCredentials | ErrorKind::InvalidRequest
                ),
                "unexpected {kind:?}"
            );
            if kind == ErrorKind::MissingCredentials {
                for &i in &order {
                    assert!(!holds(i), "source {i} holds credentials, yet none found");
                }
            }
            // Two values of the token header, or two `at` cookies, are never a token.
            if order.first() == Some(&1) && values(1).len() >= 2 {
                assert_eq!(kind, ErrorKind::InvalidRequest);
            }
            if order.first() == Some(&2) && cookies(&headers).len() >= 2 {
                assert_eq!(kind, ErrorKind::InvalidRequest);
            }
        }
    }
});
