//! `cargo run -p example-actix-products` with `SCOPEGATE_ISSUER` and `SCOPEGATE_AUDIENCE` set.
#![allow(clippy::print_stdout)]

use std::net::TcpListener;

use example_actix_products::{Config, server};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match Config::from_vars(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("{problem}");
            std::process::exit(2);
        }
    };
    let verifier = config.verifier()?;
    if let Err(error) = verifier.refresh_keys().await {
        tracing::warn!(%error, issuer = %config.issuer, "issuer keys unavailable at startup; answering 503 until they are");
    }
    let listener = TcpListener::bind(("127.0.0.1", config.port))?;
    println!("listening on http://{}", listener.local_addr()?);
    server(listener, verifier, 2)?.await?;
    Ok(())
}
