//! The request path the proxy authorizes and forwards: one canonical form, or a refusal.
//!
//! Upstreams in other languages decode and normalise paths in their own ways (`%2F` as
//! `/`, `..` resolved, `//` merged, `;params` dropped, `\` as `/`, overlong UTF-8 decoded
//! by lenient decoders, trailing dots and spaces trimmed by Windows). A path that could
//! mean two different things is refused; otherwise percent-encoded unreserved characters
//! and the path punctuation `!$&'()*+,=:@` are decoded (`%61` → `a`, `%3A` → `:`) and
//! hex digits upper-cased, so the path that is matched
//! against the routes is exactly the path that is forwarded.
//!
//! Each segment, once percent-decoded, must be valid shortest-form UTF-8 and must not be
//! read as another name by Windows (IIS, ASP.NET on Windows, case-insensitive NTFS):
//! - no trailing `.` or space: Win32 path normalisation drops them, so `admin.`,
//!   `admin%20` and `admin. .` name `admin`, and `...` or `..%20` can act as `..`;
//! - no 8.3 short name (`ADMINI~1`, `REPORT~2.PDF`): NTFS resolves it to the long name;
//! - no `:$` (`admin::$DATA`): the default data stream of `admin`;
//! - no character that Windows best-fit mapping or Unicode compatibility normalisation
//!   (NFKC) turns into ASCII: the fullwidth forms `U+FF01..=U+FF5E` (`／`, `．`, `ａ`) and
//!   lookalikes of `/ \ . % ; ? #` (division and fraction slash, dot leaders, small forms,
//!   `¥` and `₩`, which code pages 932 and 949 map to `\`).
//!
//! Letter case is the routes' concern: see [`Routes::find`](crate::Routes::find).

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
    /// Escapes that do not decode to valid shortest-form UTF-8: overlong forms
    /// (`%C0%AE`, `%E0%80%AE`), lone continuation or truncated sequences, surrogates.
    #[error("escapes that are not valid UTF-8")]
    InvalidUtf8,
    /// A `.` or `..` segment, raw or encoded, or a segment of dots and spaces only
    /// (`...`, `. .`).
    #[error("a dot segment")]
    DotSegment,
    /// A segment ending in `.` or a space, which Windows drops (`admin.` is `admin`).
    #[error("a segment ending in a dot or space")]
    TrailingDotOrSpace,
    /// A Windows 8.3 short name (`ADMINI~1`) or an alternate data stream (`x::$DATA`).
    #[error("a Windows short name or data stream")]
    WindowsAlias,
    /// A character that Windows best-fit mapping or NFKC turns into ASCII (`／`, `．`).
    #[error("a character that normalises to ASCII")]
    Lookalike,
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
    let mut decoded = Vec::new();
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        out.push('/');
        if segment.is_empty() && segments.peek().is_some() {
            return Err(PathError::EmptySegment);
        }
        let start = out.len();
        canonical_segment(segment, &mut out)?;
        decoded.clear();
        decode_into(&out[start..], &mut decoded);
        let name = std::str::from_utf8(&decoded).map_err(|_| PathError::InvalidUtf8)?;
        check_name(name)?;
    }
    Ok(out)
}

/// RFC 3986 `sub-delims` (but `;`) and `:` `@`: allowed raw in a path segment, and
/// decoded when percent-encoded, since most upstreams decode them before routing.
const PATH_PUNCTUATION: &[u8] = b"!$&'()*+,=:@";

/// Appends `segment` in canonical form.
fn canonical_segment(segment: &str, out: &mut String) -> Result<(), PathError> {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let value = escape_at(bytes, i).ok_or(PathError::BadEscape)?;
            if is_unreserved(value) || PATH_PUNCTUATION.contains(&value) {
                // `/v1/orders%3Acancel` is `/v1/orders:cancel` to Go, ASP.NET Core,
                // Spring, Django and Starlette: match and forward it as that.
                out.push(char::from(value));
            } else if value < 0x20 || matches!(value, b'/' | b'\\' | b'%' | b';' | 0x7f) {
                return Err(PathError::AmbiguousEscape);
            } else {
                let _ = write!(out, "%{value:02X}");
            }
            i += 3;
        } else if is_unreserved(b) || PATH_PUNCTUATION.contains(&b) {
            out.push(char::from(b));
            i += 1;
        } else {
            return Err(PathError::BadCharacter);
        }
    }
    Ok(())
}

/// The byte `%XX` at `i` stands for, if `bytes[i..]` starts with `%` and two hex digits.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let hex = bytes.get(i + 1..i + 3)?;
    let digit = |b: u8| char::from(b).to_digit(16);
    u8::try_from(digit(hex[0])? * 16 + digit(hex[1])?).ok()
}

/// Appends the bytes a canonical segment stands for (every escape decoded once).
pub(crate) fn decode_into(canonical: &str, out: &mut Vec<u8>) {
    let bytes = canonical.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match escape_at(bytes, i).filter(|_| bytes[i] == b'%') {
            Some(value) => {
                out.push(value);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
}

/// The Windows and Unicode readings of one decoded segment.
fn check_name(name: &str) -> Result<(), PathError> {
    if !name.is_empty() && name.bytes().all(|b| b == b'.' || b == b' ') {
        return Err(if name.contains('.') {
            PathError::DotSegment
        } else {
            PathError::TrailingDotOrSpace
        });
    }
    if name.ends_with(['.', ' ']) {
        return Err(PathError::TrailingDotOrSpace);
    }
    if name.contains(":$") || is_short_name(name) {
        return Err(PathError::WindowsAlias);
    }
    if name.chars().any(is_lookalike) {
        return Err(PathError::Lookalike);
    }
    Ok(())
}

/// Whether `name` has the shape of an NTFS 8.3 short name: up to eight characters
/// ending in `~` and digits (`ADMINI~1`, `AB12C3~1`), then at most a three-character
/// extension.
fn is_short_name(name: &str) -> bool {
    let base = match name.split_once('.') {
        Some((base, extension)) if extension.len() <= 3 && !extension.contains('.') => base,
        Some(_) => return false,
        None => name,
    };
    let Some((stem, number)) = base.rsplit_once('~') else {
        return false;
    };
    base.len() <= 8
        && !stem.is_empty()
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Characters that Windows best-fit mapping or NFKC turn into ASCII path characters.
fn is_lookalike(c: char) -> bool {
    matches!(
        c,
        // Fullwidth ASCII: best-fit and NFKC map each to its ASCII letter, digit or sign.
        '\u{FF01}'..='\u{FF5E}'
        // Small forms of . ; ? # % \ (NFKC).
        | '\u{FE50}'..='\u{FE6B}'
        // Presentation forms of .. and ... (NFKC).
        | '\u{FE19}' | '\u{FE30}'
        // Dot leaders and ellipsis: . .. ... (NFKC).
        | '\u{2024}'..='\u{2026}'
        // ?? ?! !? (NFKC).
        | '\u{2047}'..='\u{2049}'
        // a/c a/s c/o c/u (NFKC).
        | '\u{2100}' | '\u{2101}' | '\u{2105}' | '\u{2106}'
        // "1." to "20." (NFKC).
        | '\u{2488}'..='\u{249B}'
        // a.m. Co. p.m. (NFKC).
        | '\u{33C2}' | '\u{33C7}' | '\u{33D8}'
        // Fraction slash, division slash, set minus, reverse solidus operator (best-fit).
        | '\u{2044}' | '\u{2215}' | '\u{2216}' | '\u{29F5}'
        // Yen and won signs: `\` in code pages 932 and 949.
        | '\u{A5}' | '\u{20A9}'
    )
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
            "/%E2%82%AC/%F0%9F%98%80",
            "/~user/a~b/v1.2~rc",
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
    fn encoded_path_punctuation_is_decoded_so_custom_methods_have_one_reading() {
        for (sent, canonical) in [
            ("/v1/orders%3Acancel", "/v1/orders:cancel"),
            ("/v1/orders%3acancel", "/v1/orders:cancel"),
            ("/users/%40me", "/users/@me"),
            ("/odata/%24batch", "/odata/$batch"),
            ("/a%21%26%27%28%29%2A%2B%2C%3D", "/a!&'()*+,="),
        ] {
            assert_eq!(canonical_path(sent).as_deref(), Ok(canonical), "{sent}");
        }
        // `?` and `#` stay encoded: decoded they would end the path.
        assert_eq!(canonical_path("/a%3Fb%23c").as_deref(), Ok("/a%3Fb%23c"));
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

    /// Legacy and lenient decoders (IIS's old UTF-8 decoder, Tomcat before 6.0.10, many
    /// hand-written ones) read overlong forms as `.` and `/`: only shortest-form UTF-8
    /// has one reading.
    #[test]
    fn escapes_must_decode_to_valid_shortest_form_utf8() {
        for path in [
            "/public/%c0%ae%c0%ae/admin", // overlong `.`
            "/public/%c0%af",             // overlong `/`
            "/public/%C1%9C",             // overlong `\`
            "/public/%e0%80%ae",          // three-byte overlong `.`
            "/public/%f0%80%80%af",       // four-byte overlong `/`
            "/public/%80",                // lone continuation byte
            "/public/a%bf",
            "/public/%c3",          // truncated
            "/public/%e2%82",       // truncated
            "/public/%c3a",         // lead byte, then a raw character
            "/public/%c3/%a9",      // a sequence split by a slash
            "/public/%ed%a0%80",    // surrogate U+D800
            "/public/%f4%90%80%80", // beyond U+10FFFF
            "/public/%fe",
            "/public/%ff",
        ] {
            assert_eq!(canonical_path(path), Err(PathError::InvalidUtf8), "{path}");
        }
    }

    /// Windows drops trailing dots and spaces from names, so `admin.` and `admin%20` are
    /// `admin` to IIS and case-insensitive NTFS: refused, though a trailing dot used to
    /// pass as part of an ordinary name. `...` is `..` to old Windows path code.
    #[test]
    fn names_windows_reads_as_other_names_are_refused() {
        let cases = [
            ("/a/...", PathError::DotSegment),
            ("/a/.%2E.", PathError::DotSegment),
            ("/a/..%20", PathError::DotSegment),
            ("/a/.%20.", PathError::DotSegment),
            ("/a/%20..", PathError::DotSegment),
            ("/a/%20", PathError::TrailingDotOrSpace),
            ("/admin.", PathError::TrailingDotOrSpace),
            ("/admin./x", PathError::TrailingDotOrSpace),
            ("/admin%20/x", PathError::TrailingDotOrSpace),
            ("/admin%2E%20%2E", PathError::TrailingDotOrSpace),
            ("/a/b..", PathError::TrailingDotOrSpace),
            ("/ADMINI~1/x", PathError::WindowsAlias),
            ("/admini~1", PathError::WindowsAlias),
            ("/REPOR~12.PDF", PathError::WindowsAlias),
            ("/AB12C3~1.htm", PathError::WindowsAlias),
            ("/admin::$DATA", PathError::WindowsAlias),
            ("/admin:$DATA", PathError::WindowsAlias),
            ("/admin:%24DATA", PathError::WindowsAlias),
        ];
        for (path, error) in cases {
            assert_eq!(canonical_path(path), Err(error), "{path}");
        }
        for path in [
            "/a/.well-known/x",
            "/a/..b",
            "/a/.b.c",
            "/a/b c".replace(' ', "%20").as_str(),
            "/~1",
            "/a~b1",
            "/longername~1",
            "/a~1.tar.gz",
            "/v1/things:batchGet",
        ] {
            assert!(canonical_path(path).is_ok(), "{path}");
        }
    }

    #[test]
    fn characters_that_normalise_to_ascii_are_refused() {
        for path in [
            "/public/%EF%BC%8F..%EF%BC%8Fadmin", // fullwidth solidus
            "/public/%EF%BC%8E%EF%BC%8E",        // fullwidth full stop
            "/%EF%BD%81dmin",                    // fullwidth a
            "/public/%EF%BC%BC",                 // fullwidth reverse solidus
            "/public/%EF%B9%92",                 // small full stop
            "/public/%EF%B9%A8",                 // small reverse solidus
            "/public/%E2%80%A5",                 // two dot leader
            "/public/a%E2%88%95b",               // division slash
            "/public/a%E2%81%84b",               // fraction slash
            "/public/%C2%A5admin",               // yen sign: `\` in code page 932
        ] {
            assert_eq!(canonical_path(path), Err(PathError::Lookalike), "{path}");
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

    /// Checks that `out`, accepted for `input`, is canonical and means one thing to any
    /// upstream.
    fn assert_one_reading(input: &str, out: &str) {
        assert_eq!(canonical_path(out).as_deref(), Ok(out), "{input}");
        let segments: Vec<&str> = out[1..].split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            let plain = decoded(segment);
            assert!(
                !plain.is_empty() || i + 1 == segments.len(),
                "{input} -> {out}"
            );
            assert!(
                !plain
                    .iter()
                    .any(|b| b"/\\;%".contains(b) || *b < 0x20 || *b == 0x7f),
                "{input} -> {out}"
            );
            let text = std::str::from_utf8(&plain)
                .unwrap_or_else(|_| panic!("not UTF-8: {input} -> {out}"));
            let trimmed = text.trim_end_matches(['.', ' ']);
            assert_eq!(trimmed, text, "Windows trims: {input} -> {out}");
            let base = text.split('.').next().unwrap_or_default();
            let extension = &text[base.len()..];
            let short_name = base.len() <= 8
                && (extension.is_empty()
                    || (extension.len() <= 4 && !extension[1..].contains('.')))
                && base.rsplit_once('~').is_some_and(|(stem, number)| {
                    !stem.is_empty()
                        && !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                });
            assert!(!short_name, "a short name: {input} -> {out}");
            assert!(!text.contains(":$"), "a data stream: {input} -> {out}");
            assert!(
                text.chars().all(|c| c.is_ascii() || !is_lookalike(c)),
                "{input} -> {out}"
            );
        }
    }

    /// Every sequence of up to `len` items of `alphabet` after a leading `/`; returns
    /// how many were accepted, each checked by [`assert_one_reading`].
    fn exhaust(alphabet: &[&str], len: usize) -> usize {
        let mut accepted = 0;
        let mut path = String::new();
        for len in 0..=len {
            let mut counters = vec![0usize; len];
            loop {
                path.clear();
                path.push('/');
                counters.iter().for_each(|&c| path.push_str(alphabet[c]));
                if let Ok(out) = canonical_path(&path) {
                    accepted += 1;
                    assert_one_reading(&path, &out);
                }
                // Next combination of `len` items, or the next length.
                let mut position = 0;
                while position < len {
                    counters[position] += 1;
                    if counters[position] < alphabet.len() {
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
        accepted
    }

    /// Every path of up to five characters after the leading `/`, over an alphabet of
    /// separators, dots, escapes and their hex digits, then every path of up to four
    /// pieces over escapes that make overlong, truncated, surrogate and lookalike UTF-8,
    /// spaces, short names and data streams: whatever is accepted is canonical (a fixed
    /// point) and means one thing to any upstream.
    #[test]
    fn every_accepted_short_path_has_one_reading() {
        let characters: Vec<String> = "/.%25eEFfaC;\\~1".chars().map(String::from).collect();
        let characters: Vec<&str> = characters.iter().map(String::as_str).collect();
        let accepted = exhaust(&characters, 5);
        assert!(
            accepted > 1000,
            "the alphabet must reach accepting paths: {accepted}"
        );

        let pieces = [
            "/", ".", "a", "A", "~", "1", ":", "$", "%20", "%2e", "%2F", "%C0", "%AE", "%E0",
            "%80", "%C3", "%A9", "%ED", "%A0", "%EF", "%BC", "%8F", "%F0", "%9F", "%e2", "%88",
            "%95",
        ];
        let accepted = exhaust(&pieces, 4);
        assert!(
            accepted > 10_000,
            "the pieces must reach accepting paths: {accepted}"
        );
    }
}
