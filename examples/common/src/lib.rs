//! Configuration shared by the example APIs: `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE`,
//! `PORT`; without `SCOPEGATE_ISSUER`, the embedded dev issuer and a printed quick start.

mod product;
mod quickstart;

pub use product::{INVALID_BODY, InvalidBody, NewProduct};
pub use quickstart::{Command, Login, PERSONAS, Persona, quickstart};
use scopegate_dev_issuer::{DevIssuer, Tenant};

use scopegate_core::{ConfigError, Dpop, DpopMode, Verifier, VerifierConfig};

/// Settings read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SCOPEGATE_ISSUER`: the issuer exactly as in tokens' `iss` (Auth0: `https://<tenant>/`).
    pub issuer: String,
    /// `SCOPEGATE_AUDIENCE`: the API identifier (with the embedded issuer: each of its APIs).
    pub audiences: Vec<String>,
    /// `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
    /// `SCOPEGATE_TOKEN_CACHE`: `0` disables the verified-token cache (on by default).
    pub token_cache: bool,
    /// `SCOPEGATE_DPOP`: `allowed` or `required` turns DPoP on (off by default).
    pub dpop: Option<DpopMode>,
}

/// Why the environment does not configure the example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// `SCOPEGATE_AUDIENCE` is not set.
    MissingAudience,
    /// `PORT` is not a port number.
    InvalidPort,
    /// `SCOPEGATE_DPOP` is neither `allowed` nor `required`.
    InvalidDpop,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingAudience => {
                "SCOPEGATE_ISSUER is set but SCOPEGATE_AUDIENCE is not: set it to your API identifier (the token audience)."
            }
            Self::InvalidPort => "PORT must be a port number (0 picks a free one).",
            Self::InvalidDpop => "SCOPEGATE_DPOP must be `allowed` or `required` (unset: DPoP off).",
        })
    }
}

impl Config {
    /// Reads `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE`, `PORT`, `SCOPEGATE_TOKEN_CACHE` and
    /// `SCOPEGATE_DPOP` through `var`; `None`
    /// when `SCOPEGATE_ISSUER` is not set (run the embedded issuer instead).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigProblem> {
        let port = port(&var)?;
        let Some(issuer) = var("SCOPEGATE_ISSUER").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let audience = var("SCOPEGATE_AUDIENCE")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigProblem::MissingAudience)?;
        Ok(Some(Self {
            issuer,
            audiences: vec![audience],
            port,
            token_cache: token_cache(&var),
            dpop: dpop(&var)?,
        }))
    }

    /// A verifier that discovers the issuer's keys and accepts the configured audiences.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        let mut audiences = self.audiences.iter();
        let first = audiences.next().cloned().unwrap_or_default();
        let config = audiences
            .fold(
                VerifierConfig::new(self.issuer.clone(), first),
                |config, audience| config.audience(audience.clone()),
            )
            .token_cache(if self.token_cache {
                VerifierConfig::DEFAULT_TOKEN_CACHE
            } else {
                0
            });
        match self.dpop {
            None => config.build(),
            Some(DpopMode::Allowed) => config.dpop(Dpop::allowed()).build(),
            Some(DpopMode::Required) => config.dpop(Dpop::required()).build(),
        }
    }
}

/// `SCOPEGATE_DPOP`: `allowed`, `required`, or unset (off).
fn dpop(var: impl Fn(&str) -> Option<String>) -> Result<Option<DpopMode>, ConfigProblem> {
    match var("SCOPEGATE_DPOP").as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("allowed") => Ok(Some(DpopMode::Allowed)),
        Some("required") => Ok(Some(DpopMode::Required)),
        Some(_) => Err(ConfigProblem::InvalidDpop),
    }
}

/// `SCOPEGATE_TOKEN_CACHE`: anything but `0` (or unset) keeps the cache on.
fn token_cache(var: impl Fn(&str) -> Option<String>) -> bool {
    var("SCOPEGATE_TOKEN_CACHE").is_none_or(|v| v.trim() != "0")
}

/// `PORT`, 3000 by default.
fn port(var: impl Fn(&str) -> Option<String>) -> Result<u16, ConfigProblem> {
    match var("PORT") {
        Some(port) => port.trim().parse().map_err(|_| ConfigProblem::InvalidPort),
        None => Ok(3000),
    }
}

impl std::error::Error for ConfigProblem {}

/// What an example runs against: the configured issuer, or the embedded dev issuer.
#[derive(Debug)]
pub struct Setup {
    /// The configuration in effect.
    pub config: Config,
    /// The embedded issuer, when `SCOPEGATE_ISSUER` was not set.
    pub dev_issuer: Option<DevIssuer>,
}

impl Setup {
    /// Reads the environment through `var`; without `SCOPEGATE_ISSUER`, starts the
    /// built-in dev issuer on 127.0.0.1 and accepts tokens for each of its APIs.
    pub async fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        if let Some(config) = Config::from_vars(&var)? {
            return Ok(Self {
                config,
                dev_issuer: None,
            });
        }
        let port = port(&var)?;
        let issuer = DevIssuer::start(Tenant::built_in()).await?;
        let config = Config {
            issuer: issuer.issuer().to_owned(),
            audiences: issuer
                .tenant()
                .apis
                .iter()
                .map(|api| api.identifier.clone())
                .collect(),
            port,
            token_cache: token_cache(&var),
            dpop: dpop(&var)?,
        };
        Ok(Self {
            config,
            dev_issuer: Some(issuer),
        })
    }

    /// What an example binary does first: logging from `RUST_LOG` (default `info`), the
    /// environment read (exit 2 saying what to set on a mistake), the verifier built and
    /// its keys fetched once (a warning if the issuer cannot be reached yet).
    pub async fn start_from_env() -> Result<(Self, Verifier), Box<dyn std::error::Error>> {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .init();
        let setup = match Self::from_vars(|name| std::env::var(name).ok()).await {
            Ok(setup) => setup,
            Err(problem) => {
                eprintln!("{problem}");
                std::process::exit(2);
            }
        };
        let verifier = setup.config.verifier()?;
        if let Err(error) = verifier.refresh_keys().await {
            tracing::warn!(%error, issuer = %setup.config.issuer, "issuer keys unavailable at startup; answering 503 until they are");
        }
        Ok((setup, verifier))
    }

    /// Prints where the API listens and, with the embedded issuer, the quick start.
    #[allow(clippy::print_stdout)]
    pub fn announce(&self, addr: std::net::SocketAddr) {
        println!("listening on http://{addr}");
        if let Some(quickstart) = self.quickstart(&format!("http://{addr}")) {
            println!("{quickstart}");
        }
    }

    /// The quick start to print once the API listens on `api_base`: one curl command per
    /// line, with tokens from the embedded issuer; `None` with an external issuer.
    pub fn quickstart(&self, api_base: &str) -> Option<String> {
        self.dev_issuer
            .as_ref()
            .map(|issuer| quickstart(issuer, api_base))
    }
}
