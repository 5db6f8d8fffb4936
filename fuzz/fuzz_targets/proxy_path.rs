//! The proxy's canonical request path from arbitrary bytes: whatever is accepted is a
//! fixed point (canonicalising it again changes nothing) and has one reading for any
//! upstream, checked by a percent-decoder written here apart from the code under test.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_proxy::canonical_path;

/// Percent-decodes one segment once; `None` on a malformed escape.
fn decoded(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(canonical) = canonical_path(path) else {
        return;
    };
    // A fixed point.
    assert_eq!(
        canonical_path(&canonical).as_deref(),
        Ok(canonical.as_str()),
        "{path:?}"
    );
    // Printable ASCII only, starting with `/`.
    assert!(canonical.starts_with('/'), "{path:?} -> {canonical:?}");
    assert!(
        canonical.bytes().all(|b| (0x21..0x7f).contains(&b)),
        "{path:?} -> {canonical:?}"
    );
    let segments: Vec<&str> = canonical[1..].split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let plain = decoded(segment).unwrap_or_else(|| panic!("{path:?} -> {canonical:?}"));
        // One reading: no separator, escape or control character hidden in an escape,
        // no empty or dot segment, nothing Windows trims, valid UTF-8 (shortest form).
        assert!(!plain.is_empty() || i == last, "{path:?} -> {canonical:?}");
        assert!(
            !plain
                .iter()
                .any(|b| b"/\\;%".contains(b) || *b < 0x20 || *b == 0x7f),
            "{path:?} -> {canonical:?}"
        );
        assert!(
            !matches!(plain.last(), Some(b'.' | b' ')),
            "a segment Windows trims: {path:?} -> {canonical:?}"
        );
        assert!(
            std::str::from_utf8(&plain).is_ok(),
            "not UTF-8: {path:?} -> {canonical:?}"
        );
        // Escapes are only for what must be escaped: unreserved characters and path
        // punctuation appear as themselves, so `/%61dmin` and `/admin`, or
        // `/orders%3Acancel` and `/orders:cancel`, cannot be two readings.
        let mut bytes = segment.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let value =
                    u8::from_str_radix(std::str::from_utf8(&hex).expect("hex"), 16).expect("hex");
                assert!(
                    !(value.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@".contains(&value)),
                    "an escaped unreserved or punctuation character: {path:?} -> {canonical:?}"
                );
                assert!(
                    hex.iter().all(|h| !h.is_ascii_lowercase()),
                    "lower-case hex: {path:?} -> {canonical:?}"
                );
            }
        }
    }
});
