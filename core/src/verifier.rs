//! The verifier: from a bearer token to a [`VerifiedToken`], failing fast.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Algorithm;
use crate::audit;
use crate::bearer::extract_bearer;
use crate::claim_rule::ClaimRule;
use crate::config::{Clock, ConfigError, VerifierConfig};
use crate::error::{AuthError, ErrorKind};
use crate::header::Header;
use crate::json::parse_object;
use crate::key_source::KeySource;
use crate::keys::KeySet;
use crate::outcome::{AuthMode, Outcome, PendingVerification};
use crate::remote::{KeyCacheStatus, RemoteKeys};
use crate::scope_set::ScopeSource;
use crate::token::VerifiedToken;
use crate::validation::ClaimsPolicy;

/// Verifies bearer access tokens. Build it once; clones share everything.
///
/// Checks, in order, stopping at the first failure: size cap, compact JWS shape, header
/// (`alg` allow-list, no `crit`), key (by `kid`, or the single compatible key), signature,
/// then claims (`typ`, `cnf`, claim types, `iss`, `aud`, `exp`, `nbf`, `iat`, max age,
/// custom rules). Every decision emits an audit event (see [`audit`](crate::audit)).
///
/// ```
/// use scopegate_core::{test_util::TestIssuer, ErrorKind, Requirement};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let issuer = TestIssuer::new();
/// let verifier = issuer.verifier()?;
///
/// let token = issuer.token().scope("read:orders").sign();
/// let verified = verifier.verify(&token).await?;
/// Requirement::all(["read:orders"])?.check(&verified)?;
///
/// let expired = issuer.token().expired().sign();
/// assert_eq!(verifier.verify(&expired).await.unwrap_err().kind(), ErrorKind::Expired);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    algorithms: Vec<Algorithm>,
    max_token_size: usize,
    keys: KeySource,
    policy: ClaimsPolicy,
    scope_source: ScopeSource,
    rules: Vec<ClaimRule>,
    allow_query_token: bool,
    unavailable_as_invalid_token: bool,
    clock: Clock,
}

impl Verifier {
    /// The Auth0 preset: issuer `https://<domain>/`, RS256, the default profile, keys
    /// from the tenant (discovery, falling back to `/.well-known/jwks.json`). Same as
    /// [`VerifierConfig::auth0`]; adjust anything, then `.build()`.
    ///
    /// ```
    /// use scopegate_core::Verifier;
    ///
    /// let verifier = Verifier::auth0("tenant.eu.auth0.com", "https://api.example/").build()?;
    /// # let _ = verifier;
    /// # Ok::<(), scopegate_core::ConfigError>(())
    /// ```
    pub fn auth0(domain_or_issuer_url: &str, audience: impl Into<String>) -> VerifierConfig {
        VerifierConfig::auth0(domain_or_issuer_url, audience)
    }

    /// Builds a verifier, checking the configuration.
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let VerifierConfig {
            issuer,
            audiences,
            algorithms,
            leeway,
            max_token_size,
            max_age,
            keys,
            scope_source,
            profile,
            rules,
            allow_query_token,
            unavailable_as_invalid_token,
            clock,
        } = config;
        let keys = match keys {
            Some(keys) => keys,
            None => RemoteKeys::discovery(issuer.clone()).build()?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                algorithms,
                max_token_size,
                keys,
                policy: ClaimsPolicy {
                    issuer,
                    audiences,
                    leeway: leeway.as_secs(),
                    max_age: max_age.map(|age| age.as_secs()),
                    profile,
                },
                scope_source,
                rules,
                allow_query_token,
                unavailable_as_invalid_token,
                clock,
            }),
        })
    }

    /// Reads the bearer token from a request's `Authorization` header values (and the
    /// query string, if enabled) and verifies it. See
    /// [`extract_bearer`](crate::bearer::extract_bearer) for the credential rules.
    pub async fn authenticate<'a, I>(
        &self,
        authorization: I,
        query: Option<&'a str>,
    ) -> Result<VerifiedToken, AuthError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        match self.authenticate_now(authorization, query, AuthMode::Required) {
            Outcome::Authenticated(token) => Ok(token),
            Outcome::Rejected(error) => Err(error),
            Outcome::Pending(pending) => pending.resolve().await,
            // Unreachable in required mode; fail closed all the same.
            Outcome::Anonymous => Err(ErrorKind::MissingCredentials.into()),
        }
    }

    /// [`authenticate`](Self::authenticate) for an `http` request's parts.
    pub async fn authenticate_request(
        &self,
        headers: &http::HeaderMap,
        uri: &http::Uri,
    ) -> Result<VerifiedToken, AuthError> {
        let values = headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .map(http::HeaderValue::as_bytes);
        self.authenticate(values, uri.query()).await
    }

    /// Decides a request without waiting when it can: everything but a key fetch is
    /// synchronous, so adapters answer most requests without allocating a future. An
    /// [`Outcome::Pending`] needs the issuer's keys first.
    pub fn authenticate_now<'a, I>(
        &self,
        authorization: I,
        query: Option<&'a str>,
        mode: AuthMode,
    ) -> Outcome
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let token = match extract_bearer(authorization, query, self.inner.allow_query_token) {
            Ok(token) => token,
            Err(error)
                if error.kind() == ErrorKind::MissingCredentials && mode == AuthMode::Optional =>
            {
                audit::anonymous();
                return Outcome::Anonymous;
            }
            Err(error) => {
                audit::token_rejected(error.kind());
                return Outcome::Rejected(error);
            }
        };
        match self.verify_now(&token) {
            Some(Ok(verified)) => Outcome::Authenticated(verified),
            Some(Err(error)) => Outcome::Rejected(error),
            None => Outcome::Pending(PendingVerification::new(self.clone(), token.into_owned())),
        }
    }

    /// Verifies one token.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        match self.verify_now(token) {
            Some(result) => result,
            None => self.verify_after_fetch(token).await,
        }
    }

    /// Verifies one token if its key is at hand (static keys, or cached keys naming its
    /// `kid`); `None` when the issuer's keys must be fetched first.
    pub fn verify_now(&self, token: &str) -> Option<Result<VerifiedToken, AuthError>> {
        let result = match self.prepare(token) {
            Ok(prepared) => match self.inner.keys.keys_now(prepared.header.kid.as_deref())? {
                Ok(keys) => self.finish(&prepared, &keys),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        Some(self.audited(result))
    }

    /// The slow path of [`verify`](Self::verify): waits for the issuer's keys.
    pub(crate) async fn verify_after_fetch(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let result = match self.prepare(token) {
            Ok(prepared) => match self
                .inner
                .keys
                .keys_for(prepared.header.kid.as_deref())
                .await
            {
                Ok(keys) => self.finish(&prepared, &keys),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        self.audited(result)
    }

    /// Fetches the issuer's keys now, e.g. at startup to fail fast on a wrong issuer.
    /// Fails with [`ErrorKind::KeysUnavailable`] if no keys can be obtained; a no-op for
    /// static keys.
    pub async fn refresh_keys(&self) -> Result<(), AuthError> {
        self.inner.keys.refresh().await
    }

    /// The state of the remote key cache, for health endpoints; `None` for static keys.
    pub fn key_status(&self) -> Option<KeyCacheStatus> {
        self.inner.keys.status()
    }

    fn audited(
        &self,
        mut result: Result<VerifiedToken, AuthError>,
    ) -> Result<VerifiedToken, AuthError> {
        if self.inner.unavailable_as_invalid_token {
            result = result.map_err(AuthError::unavailable_as_invalid_token);
        }
        match &result {
            Ok(verified) => audit::token_accepted(verified),
            Err(error) => audit::token_rejected(error.kind()),
        }
        result
    }

    /// Everything before the key: size, shape, base64url, header and `alg`.
    fn prepare<'t>(&self, token: &'t str) -> Result<Prepared<'t>, AuthError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_size {
            return Err(ErrorKind::TokenTooLarge.into());
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(ErrorKind::MalformedToken)?;
        let (header_b64, payload_b64) = signing_input
            .split_once('.')
            .ok_or(ErrorKind::MalformedToken)?;
        if header_b64.is_empty()
            || payload_b64.is_empty()
            || signature.is_empty()
            || payload_b64.contains('.')
        {
            return Err(ErrorKind::MalformedToken.into());
        }
        let header_json = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| ErrorKind::MalformedToken)?;
        let header = Header::parse(&header_json, &inner.algorithms)?;
        // Decoded now so a malformed segment is reported as such; parsed only once signed.
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| ErrorKind::MalformedToken)?;
        Ok(Prepared {
            header,
            signing_input,
            signature,
            payload,
        })
    }

    /// Everything from the key on: selection, signature, claims, rules, scopes.
    fn finish(&self, prepared: &Prepared<'_>, keys: &KeySet) -> Result<VerifiedToken, AuthError> {
        let inner = &*self.inner;
        let header = &prepared.header;
        let key = keys.select(header.kid.as_deref(), header.alg)?;
        if !key.verify(
            header.alg,
            prepared.signing_input.as_bytes(),
            prepared.signature,
        ) {
            return Err(ErrorKind::InvalidSignature.into());
        }
        let claims = parse_object(&prepared.payload).ok_or(ErrorKind::MalformedToken)?;
        let expires_at =
            inner
                .policy
                .validate(header.typ.as_deref(), &claims, inner.clock.now())?;
        if !inner.rules.iter().all(|rule| rule.is_satisfied_by(&claims)) {
            return Err(ErrorKind::ClaimRuleFailed.into());
        }
        let scopes = inner.scope_source.read(&claims);
        Ok(VerifiedToken::new(claims, scopes, expires_at, header.alg))
    }
}

/// A token between [`Verifier::prepare`] and [`Verifier::finish`].
struct Prepared<'t> {
    header: Header,
    signing_input: &'t str,
    signature: &'t str,
    payload: Vec<u8>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.policy.issuer)
            .field("audiences", &self.inner.policy.audiences)
            .field("algorithms", &self.inner.algorithms)
            .finish_non_exhaustive()
    }
}
