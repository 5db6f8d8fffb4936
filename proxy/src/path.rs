//! The request path the proxy authorizes and forwards: one canonical form, or a refusal.
//!
//! Upstreams in other languages decode and normalise paths in their own ways (`%2F` as
//! `/`, `..` resolved, `//` merged, `;params` dropped, `\` as `/`). A path that could mean
//! two different things is refused; otherwise percent-encoded unreserved characters are
//! decoded (`%61` → `a`) and hex digits upper-cased, so the path that is matched against
//! the routes is exactly the path that is forwarded.

use std::fmt::Write;

/// Why a request path is refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not an origin-form path starting with `/`.
    #[error("the path must start with /")]
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    #[error("malformed percent-encoding")]
    BadEscape,
    /// `%2F`, `%5C`, `%25` (double encoding), `%3B`, or an encoded control character.
    #[error("an encoded separator, percent sign or control character")]
    AmbiguousEscape,
    /// A `.` or `..` segment, raw or encoded.
    #[error("a dot segment")]
    DotSegment,
    /// `//` inside the path.
    #[error("an empty segment")]
    EmptySegment,
    /// `\`, `;` or a character outside RFC 3986 `pchar`.
    #[error("a character upstreams treat differently")]
    BadCharacter,
}

/// The canonical form of `path` (without query), or why it is refused.
pub fn canonical_path(path: &str) -> Result<String, PathError> {
    let rest = path.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let mut out = String::with_capacity(path.len());
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.into_iter().enumerate() {
        out.push('/');
        if segment.is_empty() && i != last {
            return Err(PathError::EmptySegment);
        }
        let start = out.len();
        canonical_segment(segment, &mut out)?;
        if matches!(&out[start..], "." | "..") {
            return Err(PathError::DotSegment);
        }
    }
    Ok(out)
}

/// Appends `segment` in canonical form.
fn canonical_segment(segment: &str, out: &mut String) -> Result<(), PathError> {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
            let value = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| hex.iter().all(u8::is_ascii_hexdigit))
                .ok_or(PathError::BadEscape)?;
            if is_unreserved(value) {
                out.push(char::from(value));
            } else if value < 0x20 || matches!(value, b'/' | b'\\' | b'%' | b';' | 0x7f) {
                return Err(PathError::AmbiguousEscape);
            } else {
                let _ = write!(out, "%{value:02X}");
            }
            i += 3;
        } else if is_unreserved(b) || b"!$&'()*+,=:@".contains(&b) {
            out.push(char::from(b));
            i += 1;
        } else {
            return Err(PathError::BadCharacter);
        }
    }
    Ok(())
}

/// RFC 3986 `unreserved`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_stay_as_they_are() {
        for path in [
            "/",
            "/api/orders",
            "/api/orders/",
            "/a-b_c~d/e.f",
            "/x/@me:1,2+3=4",
            "/%C3%A9t%C3%A9",
        ] {
            assert_eq!(canonical_path(path).as_deref(), Ok(path), "{path}");
        }
    }

    #[test]
    fn encoded_unreserved_characters_are_decoded_and_hex_upper_cased() {
        assert_eq!(
            canonical_path("/%61pi/%6Frders").as_deref(),
            Ok("/api/orders")
        );
        assert_eq!(
            canonical_path("/a%20b/%c3%a9").as_deref(),
            Ok("/a%20b/%C3%A9")
        );
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        let cases = [
            ("api", PathError::NotAbsolute),
            ("*", PathError::NotAbsolute),
            ("/api/%2F/admin", PathError::AmbiguousEscape),
            ("/api%2fadmin", PathError::AmbiguousEscape),
            ("/api/%252e%252e/admin", PathError::AmbiguousEscape),
            ("/api/%5Cadmin", PathError::AmbiguousEscape),
            ("/api/%3Badmin", PathError::AmbiguousEscape),
            ("/api/%00", PathError::AmbiguousEscape),
            ("/api/%0d%0a", PathError::AmbiguousEscape),
            ("/api/%7F", PathError::AmbiguousEscape),
            ("/api/%zz", PathError::BadEscape),
            ("/api/%4", PathError::BadEscape),
            ("/api/%", PathError::BadEscape),
            ("/api/%+1", PathError::BadEscape),
            ("/public/../admin", PathError::DotSegment),
            ("/public/./admin", PathError::DotSegment),
            ("/public/%2e%2e/admin", PathError::DotSegment),
            ("/public/.%2E/admin", PathError::DotSegment),
            ("/public/..", PathError::DotSegment),
            ("/.", PathError::DotSegment),
            ("//admin", PathError::EmptySegment),
            ("/public//admin", PathError::EmptySegment),
            ("/public\\..\\admin", PathError::BadCharacter),
            ("/admin;jsessionid=1", PathError::BadCharacter),
            ("/admin\"", PathError::BadCharacter),
            ("/é", PathError::BadCharacter),
        ];
        for (path, error) in cases {
            assert_eq!(canonical_path(path), Err(error), "{path}");
        }
    }

    #[test]
    fn dots_inside_names_are_not_dot_segments() {
        for path in ["/a/.well-known/x", "/a/...", "/a/..b", "/a/b.."] {
            assert_eq!(canonical_path(path).as_deref(), Ok(path), "{path}");
        }
    }

    /// Percent-decodes every escape once (a model apart from the code under test).
    fn decoded(segment: &str) -> Vec<u8> {
        let bytes = segment.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// Every path of up to five characters after the leading `/`, over an alphabet of
    /// separators, dots, escapes and their hex digits: whatever is accepted is canonical
    /// (a fixed point) and means one thing to any upstream.
    #[test]
    fn every_accepted_short_path_has_one_reading() {
        const ALPHABET: &[u8] = b"/.%25eEFfaC;\\";
        let mut accepted = 0;
        let mut path = Vec::with_capacity(6);
        for len in 0..=5 {
            let mut counters = [0usize; 5];
            loop {
                path.clear();
                path.push(b'/');
                path.extend(counters[..len].iter().map(|&c| ALPHABET[c]));
                let text = std::str::from_utf8(&path).expect("ascii");
                if let Ok(out) = canonical_path(text) {
                    accepted += 1;
                    assert_eq!(canonical_path(&out).as_deref(), Ok(out.as_str()), "{text}");
                    let segments: Vec<&str> = out[1..].split('/').collect();
                    for (i, segment) in segments.iter().enumerate() {
                        let plain = decoded(segment);
                        assert!(
                            !plain.is_empty() || i + 1 == segments.len(),
                            "{text} -> {out}"
                        );
                        assert!(plain != b"." && plain != b"..", "{text} -> {out}");
                        assert!(
                            !plain.iter().any(|b| b"/\\;%".contains(b) || *b < 0x20),
                            "{text} -> {out}"
                        );
                    }
                }
                // Next combination of `len` letters, or the next length.
                let mut position = 0;
                while position < len {
                    counters[position] += 1;
                    if counters[position] < ALPHABET.len() {
                        break;
                    }
                    counters[position] = 0;
                    position += 1;
                }
                if position == len {
                    break;
                }
            }
        }
        assert!(
            accepted > 1000,
            "the alphabet must reach accepting paths: {accepted}"
        );
    }
}
