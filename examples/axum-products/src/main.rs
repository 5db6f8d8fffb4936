//! `cargo run -p example-axum-products` with `SCOPEGATE_ISSUER` and `SCOPEGATE_AUDIENCE` set.
#![allow(clippy::print_stdout)]

use example_axum_products::{Config, bind, serve};

#[tokio::main]
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
    let (listener, addr) = bind(config.port).await?;
    println!("listening on http://{addr}");
    serve(listener, verifier).await?;
    Ok(())
}
