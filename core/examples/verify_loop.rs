//! Verifies the same Auth0-shaped RS256 token many times with the token cache off: a
//! workload for profilers (`valgrind --tool=callgrind`, `perf record`).
//!
//! ```sh
//! cargo build --release -p scopegate-core --example verify_loop
//! valgrind --tool=callgrind target/release/examples/verify_loop 200
//! ```
#![allow(clippy::print_stdout)]

use scopegate_core::test_util::TestIssuer;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let issuer = TestIssuer::new();
    let token = issuer
        .token()
        .subject("auth0|6543a1f2b3c4d5e6f7a8b9c0")
        .claim("azp", "Xq3rT8uVw1yZ2aB4cD6eF7gH9iJ0kL1m")
        .scope("openid profile email read:orders read:products write:products")
        .sign();
    let verifier = issuer
        .verifier_config()
        .token_cache(0)
        .build()
        .expect("verifier");
    let mut accepted = 0;
    for _ in 0..rounds {
        if matches!(verifier.verify_now(&token), Some(Ok(_))) {
            accepted += 1;
        }
    }
    println!(
        "token of {} bytes, {accepted}/{rounds} verified",
        token.len()
    );
}
