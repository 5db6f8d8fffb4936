//! Shows what scopegate decides for a range of requests to a route that needs
//! `write:products`: the status and `WWW-Authenticate` header each one would get.
//!
//! ```sh
//! cargo run -p scopegate-core --example decisions
//! ```
#![allow(clippy::print_stdout)]

use scopegate_core::test_util::TestIssuer;
use scopegate_core::{Requirement, Verifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TestIssuer::new();
    let verifier: Verifier = issuer.verifier()?;
    let write_products = Requirement::all(["write:products"])?;
    let other = TestIssuer::new();

    let requests = [
        ("no Authorization header", None),
        ("Basic credentials", Some("Basic dXNlcjpwYXNz".to_owned())),
        ("Bearer with two words", Some("Bearer abc def".to_owned())),
        (
            "expired token",
            Some(bearer(
                &issuer.token().scope("write:products").expired().sign(),
            )),
        ),
        (
            "token for another API",
            Some(bearer(
                &issuer.token().audience("https://other.example/").sign(),
            )),
        ),
        (
            "token signed by another key",
            Some(bearer(&other.token().scope("write:products").sign())),
        ),
        (
            "valid token, read:products only",
            Some(bearer(&issuer.token().scope("read:products").sign())),
        ),
        (
            "valid token with write:products",
            Some(bearer(&issuer.token().scope("write:products").sign())),
        ),
    ];

    println!("route needs: {write_products}\n");
    for (label, header) in requests {
        let headers: Vec<&[u8]> = header.iter().map(|h| h.as_bytes()).collect();
        let decision = match verifier.authenticate(headers, None).await {
            Ok(token) => write_products.check(&token),
            Err(error) => Err(error),
        };
        match decision {
            Ok(()) => println!("{label:<34} -> 200 OK"),
            Err(error) => println!(
                "{label:<34} -> {}\n{:<38}WWW-Authenticate: {}",
                error.status(),
                "",
                error.challenge("api").unwrap_or_default()
            ),
        }
    }
    Ok(())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
