//! `cargo run -p example-actix-products`: in front of `SCOPEGATE_ISSUER` (with
//! `SCOPEGATE_AUDIENCE`), or, without it, the embedded dev issuer with a printed quick start.

use std::net::TcpListener;

use example_actix_products::{Setup, server};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (setup, verifier) = Setup::start_from_env().await?;
    let listener = TcpListener::bind(("127.0.0.1", setup.config.port))?;
    setup.announce(listener.local_addr()?);
    server(listener, verifier, 2)?.await?;
    Ok(())
}
