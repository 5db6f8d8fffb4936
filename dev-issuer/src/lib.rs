//! # scopegate-dev-issuer
//!
//! A local issuer that mints access tokens exactly the way Auth0 computes them, so you can
//! see, offline, which scopes a token will carry for a given user, application and API
//! configuration (RBAC switch, user access policy, client grants, "Add Permissions in the
//! Access Token"). It serves OIDC discovery, a JWKS and `POST /oauth/token`
//! (`client_credentials` and `password` grants), and is what the example APIs start when
//! no `SCOPEGATE_ISSUER` is set.
//!
//! ```
//! use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let issuer = DevIssuer::start(Tenant::built_in()).await?;
//! let token = issuer.issue(&TokenRequest {
//!     grant_type: Some("password".into()),
//!     client_id: Some("admin-portal".into()),
//!     client_secret: Some("admin-portal-secret".into()),
//!     audience: Some("https://retail.example/api".into()),
//!     scope: Some("read:orders write:products".into()),
//!     username: Some("sam".into()),
//!     password: Some("sam-pw".into()),
//! })?;
//! assert_eq!(token.scope, "read:orders"); // Support Agent: the role lacks write:products
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod grant;
mod mint;
mod server;
mod tenant;

pub use grant::{Grant, Refusal, Subject, grant};
pub use mint::{Minter, TokenError, TokenRequest, TokenResponse};
pub use server::DevIssuer;
pub use tenant::{
    Api, Application, BUILT_IN_TOML, ClientGrant, ConfigError, Role, SubjectType, Tenant, User,
    UserAccessPolicy,
};
