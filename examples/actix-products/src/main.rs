//! `cargo run -p example-actix-products`: in front of `SCOPEGATE_ISSUER` (with
//! `SCOPEGATE_AUDIENCE`), or, without it, the embedded dev issuer with a printed quick start.
#![allow(clippy::print_stdout)]

use std::net::TcpListener;

use example_actix_products::{Setup, server};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let setup = match Setup::from_vars(|name| std::env::var(name).ok()).await {
        Ok(setup) => setup,
        Err(problem) => {
            eprintln!("{problem}");
            std::process::exit(2);
        }
    };
    let config = &setup.config;
    let verifier = config.verifier()?;
    if let Err(error) = verifier.refresh_keys().await {
        tracing::warn!(%error, issuer = %config.issuer, "issuer keys unavailable at startup; answering 503 until they are");
    }
    let listener = TcpListener::bind(("127.0.0.1", config.port))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    if let Some(quickstart) = setup.quickstart(&format!("http://{addr}")) {
        println!("{quickstart}");
    }
    server(listener, verifier, 2)?.await?;
    Ok(())
}
