//! Configuration shared by the example APIs: `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE`, `PORT`.

use scopegate_core::{ConfigError, Verifier, VerifierConfig};

/// Settings read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SCOPEGATE_ISSUER`: the issuer exactly as in tokens' `iss` (Auth0: `https://<tenant>/`).
    pub issuer: String,
    /// `SCOPEGATE_AUDIENCE`: the API identifier.
    pub audience: String,
    /// `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
}

/// Why the environment does not configure the example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// `SCOPEGATE_ISSUER` is not set.
    MissingIssuer,
    /// `SCOPEGATE_AUDIENCE` is not set.
    MissingAudience,
    /// `PORT` is not a port number.
    InvalidPort,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingIssuer => {
                "SCOPEGATE_ISSUER is not set. Set it to your issuer exactly as tokens name it, and \
                 SCOPEGATE_AUDIENCE to your API identifier, e.g.\n  \
                 SCOPEGATE_ISSUER=https://your-tenant.us.auth0.com/ SCOPEGATE_AUDIENCE=https://api.example.com\n\
                 (an embedded local issuer for running without one is not available yet)"
            }
            Self::MissingAudience => "SCOPEGATE_AUDIENCE is not set: set it to your API identifier (the token audience).",
            Self::InvalidPort => "PORT must be a port number (0 picks a free one).",
        })
    }
}

impl Config {
    /// Reads `SCOPEGATE_ISSUER`, `SCOPEGATE_AUDIENCE` and `PORT` through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigProblem> {
        let issuer = var("SCOPEGATE_ISSUER")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigProblem::MissingIssuer)?;
        let audience = var("SCOPEGATE_AUDIENCE")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigProblem::MissingAudience)?;
        let port = match var("PORT") {
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| ConfigProblem::InvalidPort)?,
            None => 3000,
        };
        Ok(Self {
            issuer,
            audience,
            port,
        })
    }

    /// A verifier that discovers the issuer's keys.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        VerifierConfig::new(self.issuer.clone(), self.audience.clone()).build()
    }
}
