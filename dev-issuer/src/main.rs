//! `scopegate-dev-issuer serve|token`: a local Auth0-like issuer.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scopegate_core::test_util::TestIssuer;
use scopegate_dev_issuer::{DevIssuer, Minter, Tenant, TokenRequest};

/// A local issuer that mints tokens the way Auth0 computes them.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve discovery, JWKS and /oauth/token.
    Serve {
        /// Tenant file (TOML); the built-in tenant when omitted.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4000")]
        addr: SocketAddr,
        /// RSA private key PEM to sign with; created there if missing (share it with `token`).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Print one access token without serving.
    Token {
        /// Tenant file (TOML); the built-in tenant when omitted.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The issuer URL to write in `iss` (the address `serve` listens on).
        #[arg(long, default_value = "http://127.0.0.1:4000/")]
        issuer: String,
        /// RSA private key PEM to sign with (the one `serve` uses); created there if missing.
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// `client_credentials` or `password`.
        #[arg(long, default_value = "client_credentials")]
        grant_type: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        client_secret: String,
        #[arg(long)]
        audience: String,
        /// Space-separated scopes to request.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scopegate-dev-issuer: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            config,
            addr,
            key_file,
        } => {
            let tenant = load_tenant(config.as_deref())?;
            let key = key_file.as_deref().map(load_or_create_key).transpose()?;
            let issuer = DevIssuer::start_on(tenant, addr, key).await?;
            println!(
                "issuer {} (discovery at {}.well-known/openid-configuration)",
                issuer.issuer(),
                issuer.issuer()
            );
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Token {
            config,
            issuer,
            key_file,
            grant_type,
            client_id,
            client_secret,
            audience,
            scope,
            username,
            password,
        } => {
            let tenant = load_tenant(config.as_deref())?;
            let key = match key_file.as_deref() {
                Some(path) => load_or_create_key(path)?,
                None => {
                    eprintln!(
                        "note: signed with a throwaway key; pass --key-file (also to `serve`) to verify it against a server"
                    );
                    TestIssuer::new()
                }
            };
            let minter = Minter::new(tenant, key.with_issuer(issuer));
            let request = TokenRequest {
                grant_type: Some(grant_type),
                client_id: Some(client_id),
                client_secret: Some(client_secret),
                audience: Some(audience),
                scope,
                username,
                password,
            };
            println!("{}", minter.issue(&request)?.access_token);
            Ok(())
        }
    }
}

fn load_tenant(path: Option<&Path>) -> Result<Tenant, Box<dyn std::error::Error>> {
    match path {
        None => Ok(Tenant::built_in()),
        Some(path) => {
            let source =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Tenant::from_toml(&source).map_err(|e| format!("{}: {e}", path.display()).into())
        }
    }
}

fn load_or_create_key(path: &Path) -> Result<TestIssuer, Box<dyn std::error::Error>> {
    if path.exists() {
        let pem = std::fs::read_to_string(path)?;
        return Ok(TestIssuer::from_rsa_private_key_pem(&pem)
            .map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let key = TestIssuer::new();
    std::fs::write(path, key.rsa_private_key_pem().unwrap_or_default())?;
    Ok(key)
}
