//! The `verb:resource` rule that `#[requires_scope]` applies to its literals at compile
//! time and `Scope::new` applies at runtime, against an independent model of it. Inputs
//! are also read as Rust string literals, as the macro receives them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_core::Scope;
use scopegate_syntax::{ScopeSyntaxError, validate_scope};

/// RFC 6749 §3.3 scope-token characters, written out apart from scopegate's table.
fn model_char(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'"' && b != b'\\'
}

fn model(scope: &str) -> bool {
    let mut parts = scope.split(':');
    let (Some(verb), Some(resource), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !verb.is_empty() && !resource.is_empty() && scope.bytes().all(model_char)
}

fn check(scope: &str) {
    let result = validate_scope(scope);
    assert_eq!(result.is_ok(), model(scope), "{scope:?}: {result:?}");
    assert_eq!(Scope::new(scope).is_ok(), result.is_ok());
    if let Err(ScopeSyntaxError::InvalidCharacter(at)) = result {
        assert!(!model_char(scope.as_bytes()[at]));
        assert!(scope.as_bytes()[..at].iter().all(|&b| model_char(b)));
    }
    if let Ok(scope) = Scope::new(scope) {
        assert_eq!(
            format!("{}:{}", scope.verb(), scope.resource()),
            scope.as_str()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(text);
    if let Ok(literal) = syn::parse_str::<syn::LitStr>(text) {
        check(&literal.value());
    }
});
