//! Reading granted scopes from arbitrary claims (`scope`, `scp`, `permissions`) and from
//! arbitrary `scope` strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_core::{ScopeSet, ScopeSource};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(data) {
        let source = ScopeSource::union(
            ScopeSource::Scope,
            ScopeSource::union(ScopeSource::Scp, ScopeSource::Permissions),
        );
        let granted = source.read(&claims);
        let mut expected: Vec<&str> = Vec::new();
        for name in ["scope", "scp", "permissions"] {
            match claims.get(name) {
                Some(Value::String(s)) => expected.extend(s.split(' ').filter(|s| !s.is_empty())),
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                    expected.extend(items.iter().filter_map(Value::as_str));
                }
                // Any other type grants nothing.
                _ => {}
            }
        }
        for scope in &expected {
            assert!(granted.contains(scope), "{scope:?} not granted");
        }
        for scope in granted.iter() {
            assert!(expected.contains(&scope), "{scope:?} granted from nowhere");
        }
        // In the order listed, each scope once.
        assert!(granted.iter().eq(first_occurrences(&expected)));
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let set = ScopeSet::from_space_delimited(text);
        let pieces: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
        assert!(set.len() <= pieces.len());
        for piece in &pieces {
            assert!(set.contains(piece));
        }
        assert!(set.iter().eq(first_occurrences(&pieces)));
        for scope in set.iter() {
            assert!(!scope.is_empty() && !scope.contains(' '));
        }
        // Display round-trips.
        assert_eq!(ScopeSet::from_space_delimited(&set.to_string()), set);
    }
});

/// `items` without repeats, each kept where it first appears.
fn first_occurrences<'a>(items: &[&'a str]) -> Vec<&'a str> {
    let mut kept: Vec<&str> = Vec::new();
    for item in items {
        if !kept.contains(item) {
            kept.push(item);
        }
    }
    kept
}
