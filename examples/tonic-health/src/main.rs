//! `cargo run -p example-tonic-health`: the gRPC health service in front of
//! `SCOPEGATE_ISSUER` (with `SCOPEGATE_AUDIENCE`), or, without it, the embedded dev issuer
//! with a printed quick start.

use example_tonic_health::{Setup, bind, quickstart, serve};

#[tokio::main]
#[allow(clippy::print_stdout)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (setup, verifier) = Setup::start_from_env().await?;
    let (listener, addr) = bind(setup.config.port).await?;
    println!("gRPC listening on http://{addr}");
    if let Some(issuer) = &setup.dev_issuer {
        println!("{}", quickstart(issuer, addr));
    }
    serve(listener, verifier).await?;
    Ok(())
}
