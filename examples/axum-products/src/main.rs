//! `cargo run -p example-axum-products`: in front of `SCOPEGATE_ISSUER` (with
//! `SCOPEGATE_AUDIENCE`), or, without it, the embedded dev issuer with a printed quick start.

use example_axum_products::{Setup, bind, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (setup, verifier) = Setup::start_from_env().await?;
    let (listener, addr) = bind(setup.config.port).await?;
    setup.announce(addr);
    serve(listener, verifier).await?;
    Ok(())
}
