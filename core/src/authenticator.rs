//! The one path from a request to an [`Outcome`], shared by every front end.

use std::sync::Arc;

use crate::outcome::{AuthMode, Outcome};
use crate::request_view::RequestView;
use crate::token_source::TokenSource;
use crate::verifier::Verifier;

/// Decides requests: reads the credentials where they are configured to be (the
/// `Authorization` header by default, or [token sources](Self::token_sources)), checks a
/// DPoP proof against the request when the verifier uses [DPoP](crate::Dpop), and
/// verifies the token. The tower layer, the actix-web middleware and the proxy each hold
/// one and call [`authenticate`](Self::authenticate) with their request; nothing about
/// credentials is decided anywhere else. Cheap to clone.
///
/// ```
/// use scopegate_core::{Authenticator, Outcome, test_util::TestIssuer};
///
/// let issuer = TestIssuer::new();
/// let authenticator = Authenticator::new(issuer.verifier()?).optional();
///
/// let token = issuer.token().scope("read:orders").sign();
/// let request = http::Request::get("/orders")
///     .header("authorization", format!("Bearer {token}"))
///     .body(())?;
/// let Outcome::Authenticated(verified) = authenticator.authenticate(&request) else {
///     panic!("a valid token");
/// };
/// assert!(verified.scopes().contains("read:orders"));
///
/// let anonymous = http::Request::get("/orders").body(())?;
/// assert!(matches!(authenticator.authenticate(&anonymous), Outcome::Anonymous));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Verifier,
    mode: AuthMode,
    /// `None`: the `Authorization` header.
    sources: Option<Arc<[TokenSource]>>,
}

impl Authenticator {
    /// Requires valid credentials in the `Authorization` header.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            mode: AuthMode::Required,
            sources: None,
        }
    }

    /// Lets requests without credentials through as [`Outcome::Anonymous`]; invalid
    /// credentials are still refused.
    #[must_use]
    pub fn optional(self) -> Self {
        self.mode(AuthMode::Optional)
    }

    /// Sets whether credentials are required.
    #[must_use]
    pub fn mode(mut self, mode: AuthMode) -> Self {
        self.mode = mode;
        self
    }

    /// Where the token is read, tried in order, the first source holding credentials
    /// winning (see [`TokenSource::find`]).
    #[must_use]
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.sources = Some(sources.into_iter().collect());
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Whether credentials are required.
    pub fn auth_mode(&self) -> AuthMode {
        self.mode
    }

    /// The configured token sources; `None` for the `Authorization` header alone.
    pub fn sources(&self) -> Option<&[TokenSource]> {
        self.sources.as_deref()
    }

    /// Decides `request` without waiting when it can; [`Outcome::Pending`] needs the
    /// issuer's keys first. Every decision emits its audit event.
    pub fn authenticate<R: RequestView + ?Sized>(&self, request: &R) -> Outcome {
        let verifier = &self.verifier;
        let sources = self.sources.as_deref();
        if sources.is_none() && !verifier.uses_dpop() {
            // The common case: the Authorization header (and the query, if enabled).
            let values = request.header_values("authorization");
            return verifier.authenticate_now(values, request.query(), self.mode);
        }
        let absolute;
        let target = match request.scheme_and_authority() {
            Some((scheme, authority)) => {
                absolute = format!("{scheme}://{authority}{}", request.path_and_query());
                absolute.as_str()
            }
            None => request.path_and_query(),
        };
        verifier.authenticate_http_now(
            sources,
            |name| request.header_values(name),
            request.method_str(),
            target,
            self.mode,
        )
    }
}
