//! The case-folded reading of a canonical path: how Express (by default), ASP.NET Core,
//! IIS and case-insensitive file systems compare it.
//!
//! ASCII letters are lower-cased; percent-encoded non-ASCII characters are decoded,
//! folded with Unicode's full case mapping (upper-cased, then lower-cased, so that the
//! Kelvin sign `K` is `k`, `ſ` is `s` and `ß` is `ss`) and written back as escapes (or as
//! the ASCII letter they fold to). Two canonical paths an upstream could take for the
//! same one fold to the same string.

use std::borrow::Cow;
use std::fmt::Write;

use crate::path::decode_into;

/// The folded form of `canonical` (a path, or a route prefix, in canonical form).
///
/// Borrowed when folding changes nothing (no upper-case ASCII letter, no non-ASCII
/// escape).
pub(crate) fn folded(canonical: &str) -> Cow<'_, str> {
    let bytes = canonical.as_bytes();
    if !needs_folding(bytes) {
        return Cow::Borrowed(canonical);
    }
    let mut out = String::with_capacity(canonical.len());
    let mut run = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && bytes.get(i + 1) >= Some(&b'8') {
            // A run of non-ASCII escapes: decode, fold, write back.
            let start = i;
            while bytes.get(i) == Some(&b'%') && bytes.get(i + 1) >= Some(&b'8') {
                i += 3;
            }
            let escapes = &canonical[start..i.min(bytes.len())];
            run.clear();
            decode_into(escapes, &mut run);
            match std::str::from_utf8(&run) {
                Ok(text) => text
                    .chars()
                    .flat_map(char::to_uppercase)
                    .flat_map(char::to_lowercase)
                    .for_each(|c| push_folded(c, &mut out)),
                Err(_) => out.push_str(escapes),
            }
        } else if bytes[i] == b'%' {
            // An ASCII escape (`%20`): hex digits are not letters of the path.
            out.push_str(&canonical[i..(i + 3).min(bytes.len())]);
            i += 3;
        } else {
            out.push(char::from(bytes[i].to_ascii_lowercase()));
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// Whether a canonical path has an upper-case ASCII letter or a non-ASCII escape.
fn needs_folding(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if bytes.get(i + 1) >= Some(&b'8') => return true,
            b'%' => i += 3,
            b if b.is_ascii_uppercase() => return true,
            _ => i += 1,
        }
    }
    false
}

/// Appends one folded character: an ASCII letter or digit as itself, anything else as
/// percent-encoded UTF-8.
fn push_folded(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        let mut buffer = [0u8; 4];
        for b in c.encode_utf8(&mut buffer).bytes() {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_letters_are_lower_cased_and_escapes_kept() {
        assert_eq!(folded("/Orders/ADMIN/x"), "/orders/admin/x");
        assert_eq!(folded("/a%20B%22"), "/a%20b%22");
        assert!(matches!(folded("/orders/%20x"), Cow::Borrowed(_)));
        // Canonical escapes have upper-case hex digits: they are not letters.
        assert!(matches!(folded("/a%2Cb%5E"), Cow::Borrowed(_)));
    }

    #[test]
    fn non_ascii_characters_fold_with_unicode_case_mapping() {
        assert_eq!(folded("/CAF%C3%89"), "/caf%C3%A9");
        assert_eq!(folded("/caf%C3%A9"), "/caf%C3%A9");
        // Kelvin sign, long s, dotless i: each folds to an ASCII letter.
        assert_eq!(folded("/%E2%84%AAey"), "/key");
        assert_eq!(folded("/%C5%BFecret"), "/secret");
        assert_eq!(folded("/adm%C4%B1n"), "/admin");
        assert_eq!(folded("/stra%C3%9Fe"), "/strasse");
    }

    #[test]
    fn folding_is_idempotent() {
        for path in [
            "/Orders",
            "/CAF%C3%89/%E2%84%AA",
            "/%C3%9F%C3%9F/A%20B",
            "/",
        ] {
            let once = folded(path).into_owned();
            assert_eq!(folded(&once), once.as_str(), "{path}");
        }
    }
}
