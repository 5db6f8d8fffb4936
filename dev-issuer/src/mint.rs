//! The token endpoint's logic: authenticate the client (and user), compute the grant, sign.

use scopegate_core::Dpop;
use scopegate_core::test_util::TestIssuer;
use serde::{Deserialize, Serialize};

use crate::grant::{Subject, grant};
use crate::tenant::Tenant;

/// The parameters of a token request (`application/x-www-form-urlencoded` or JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenRequest {
    /// `client_credentials` or `password`.
    pub grant_type: Option<String>,
    /// The application.
    pub client_id: Option<String>,
    /// Its secret.
    pub client_secret: Option<String>,
    /// The API identifier.
    pub audience: Option<String>,
    /// Space-separated requested scopes.
    pub scope: Option<String>,
    /// The user (password grant).
    pub username: Option<String>,
    /// The user's password (password grant).
    pub password: Option<String>,
}

impl TokenRequest {
    /// A request with the built-in tenant's credentials (`<client_id>-secret`,
    /// `<username>-pw`): the password grant for `username`, client credentials without.
    ///
    /// ```
    /// use scopegate_dev_issuer::TokenRequest;
    ///
    /// let machine = TokenRequest::built_in("reporting-job", None, "https://retail.example/api", None);
    /// assert_eq!(machine.grant_type.as_deref(), Some("client_credentials"));
    /// assert_eq!(machine.client_secret.as_deref(), Some("reporting-job-secret"));
    /// ```
    pub fn built_in(
        client_id: &str,
        username: Option<&str>,
        audience: &str,
        scope: Option<&str>,
    ) -> Self {
        let grant = if username.is_some() {
            "password"
        } else {
            "client_credentials"
        };
        Self {
            grant_type: Some(grant.into()),
            client_id: Some(client_id.into()),
            client_secret: Some(format!("{client_id}-secret")),
            audience: Some(audience.into()),
            scope: scope.map(Into::into),
            username: username.map(Into::into),
            password: username.map(|user| format!("{user}-pw")),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The signed RS256 access token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to the key of the request's proof.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// An OAuth error answer: status, `error`, `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// HTTP status.
    pub status: u16,
    /// OAuth error code.
    pub error: &'static str,
    /// A description.
    pub description: String,
}

impl TokenError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error, self.status, self.description)
    }
}

impl std::error::Error for TokenError {}

/// Issues tokens for a tenant with one signing key.
#[derive(Debug)]
pub struct Minter {
    tenant: Tenant,
    signer: TestIssuer,
    /// Checks the DPoP proofs of token requests (and remembers their ids).
    dpop: Dpop,
}

impl Minter {
    /// A minter signing as `signer` (its issuer URL becomes `iss`).
    pub fn new(tenant: Tenant, signer: TestIssuer) -> Self {
        Self {
            tenant,
            signer,
            dpop: Dpop::allowed(),
        }
    }

    /// The token endpoint, `<issuer>oauth/token`: what a DPoP proof's `htu` must name.
    pub fn token_endpoint(&self) -> String {
        format!("{}oauth/token", self.signer.issuer())
    }

    /// Answers a token request that may carry a DPoP proof (RFC 9449 §5): with a valid
    /// proof the token is bound to its key (`cnf.jkt`) and its type is `DPoP`; an
    /// invalid or reused proof is `400 invalid_dpop_proof`.
    pub fn issue_with_proof(
        &self,
        request: &TokenRequest,
        proof: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        let jkt = match proof {
            None => None,
            Some(proof) => Some(
                self.dpop
                    .token_request_thumbprint(proof, "POST", &self.token_endpoint())
                    .map_err(|error| {
                        TokenError::new(400, "invalid_dpop_proof", error.description())
                    })?,
            ),
        };
        self.mint(request, jkt)
    }

    /// The tenant.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The signer (issuer URL, JWKS).
    pub fn signer(&self) -> &TestIssuer {
        &self.signer
    }

    /// Answers a token request as Auth0's `/oauth/token` would.
    pub fn issue(&self, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
        self.mint(request, None)
    }

    /// Issues the token; bound to the key of thumbprint `jkt` when given.
    fn mint(
        &self,
        request: &TokenRequest,
        jkt: Option<String>,
    ) -> Result<TokenResponse, TokenError> {
        let grant_type = required(&request.grant_type, "grant_type")?;
        let is_machine = match grant_type {
            "client_credentials" => true,
            "password" => false,
            _ => {
                return Err(TokenError::new(
                    400,
                    "unsupported_grant_type",
                    "Only client_credentials and password are supported",
                ));
            }
        };
        let client_id = required(&request.client_id, "client_id")?;
        let client_secret = required(&request.client_secret, "client_secret")?;
        let audience = required(&request.audience, "audience")?;
        let app = self
            .tenant
            .application(client_id)
            .filter(|app| app.client_secret == client_secret)
            .ok_or_else(|| {
                TokenError::new(
                    401,
                    "invalid_client",
                    "Unknown client or wrong client secret",
                )
            })?;
        let subject = if is_machine {
            Subject::Machine
        } else {
            let username = required(&request.username, "username")?;
            let password = required(&request.password, "password")?;
            let user = self
                .tenant
                .user(username)
                .filter(|user| user.password == password)
                .ok_or_else(|| {
                    TokenError::new(403, "invalid_grant", "Wrong username or password")
                })?;
            Subject::User(user)
        };
        let api = self
            .tenant
            .api(audience)
            .ok_or_else(|| TokenError::new(403, "access_denied", "Unknown audience"))?;
        let requested: Option<Vec<&str>> = request
            .scope
            .as_deref()
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect());
        let granted = grant(&self.tenant, subject, app, api, requested.as_deref())
            .map_err(|refusal| TokenError::new(403, "access_denied", refusal.description()))?;

        let scope = granted.scopes.join(" ");
        let lifetime = self.tenant.token_lifetime_secs;
        let (sub, gty) = match subject {
            Subject::Machine => (format!("{client_id}@clients"), "client-credentials"),
            Subject::User(user) => (format!("auth0|{}", user.username), "password"),
        };
        let mut token = self
            .signer
            .token()
            .subject(&sub)
            .audience(audience)
            .expires_in(i64::try_from(lifetime).unwrap_or(i64::MAX))
            .claim("azp", client_id)
            .claim("gty", gty)
            .scope(&scope);
        if let Some(permissions) = &granted.permissions {
            token = token.permissions(permissions.iter().map(String::as_str));
        }
        let token_type = match &jkt {
            Some(jkt) => {
                token = token.claim("cnf", serde_json::json!({ "jkt": jkt }));
                "DPoP"
            }
            None => "Bearer",
        };
        Ok(TokenResponse {
            access_token: token.sign(),
            token_type: token_type.into(),
            expires_in: lifetime,
            scope,
        })
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, TokenError> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        TokenError::new(400, "invalid_request", format!("Missing parameter: {name}"))
    })
}
