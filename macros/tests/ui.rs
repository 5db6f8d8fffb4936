//! Compile-time behaviour of `#[requires_scope]`: what compiles, and the errors for
//! everything that must not.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
