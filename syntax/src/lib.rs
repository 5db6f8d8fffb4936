//! # scopegate-syntax
//!
//! The syntax of a required scope, `verb:resource`, with no dependencies: the
//! `requires_scope` macro checks literals at compile time with exactly the rule that
//! runtime parsing in `scopegate-core` applies.
//!
//! ```
//! use scopegate_syntax::{validate_scope, ScopeSyntaxError};
//!
//! assert_eq!(validate_scope("write:products"), Ok(()));
//! assert_eq!(validate_scope("write"), Err(ScopeSyntaxError::MissingColon));
//! ```

/// Why a string is not a valid `verb:resource` scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeSyntaxError {
    /// The string is empty.
    Empty,
    /// There is no `:` between verb and resource.
    MissingColon,
    /// There is more than one `:`.
    ExtraColon,
    /// Nothing before the `:`.
    EmptyVerb,
    /// Nothing after the `:`.
    EmptyResource,
    /// A byte outside RFC 6749's scope-token characters (`%x21 / %x23-5B / %x5D-7E`),
    /// at the given byte offset.
    InvalidCharacter(usize),
}

impl ScopeSyntaxError {
    /// A fixed, human-readable explanation that names the expected `verb:resource` form.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "a scope must be `verb:resource`, got an empty string",
            Self::MissingColon => "a scope must be `verb:resource`: the `:` is missing",
            Self::ExtraColon => "a scope must be `verb:resource` with exactly one `:`",
            Self::EmptyVerb => "a scope must be `verb:resource`: the verb before `:` is empty",
            Self::EmptyResource => {
                "a scope must be `verb:resource`: the resource after `:` is empty"
            }
            Self::InvalidCharacter(_) => {
                "a scope must be `verb:resource` made of RFC 6749 scope characters \
                 (visible ASCII except space, `\"` and `\\`)"
            }
        }
    }
}

/// Whether `byte` is allowed in an RFC 6749 §3.3 scope-token.
pub const fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// Checks that `scope` is `verb:resource`: one colon, non-empty verb and resource,
/// RFC 6749 scope-token characters only.
pub const fn validate_scope(scope: &str) -> Result<(), ScopeSyntaxError> {
    let bytes = scope.as_bytes();
    if bytes.is_empty() {
        return Err(ScopeSyntaxError::Empty);
    }
    let mut colon = None;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if !is_scope_char(byte) {
            return Err(ScopeSyntaxError::InvalidCharacter(i));
        }
        if byte == b':' {
            if colon.is_some() {
                return Err(ScopeSyntaxError::ExtraColon);
            }
            colon = Some(i);
        }
        i += 1;
    }
    match colon {
        None => Err(ScopeSyntaxError::MissingColon),
        Some(0) => Err(ScopeSyntaxError::EmptyVerb),
        Some(at) if at + 1 == bytes.len() => Err(ScopeSyntaxError::EmptyResource),
        Some(_) => Ok(()),
    }
}
