//! The verifier: from a bearer token to a [`VerifiedToken`], failing fast.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Algorithm;
use crate::audit;
use crate::bearer::extract_bearer;
use crate::claim_rule::ClaimRule;
use crate::config::{Clock, ConfigError, VerifierConfig};
use crate::dpop::{Dpop, ProofRequest};
use crate::error::DpopChallenge;
use crate::error::{AuthError, ErrorKind};
use crate::header::Header;
use crate::issuer::{Issuer, Issuers};
use crate::json::parse_object;
use crate::keys::KeySet;
use crate::outcome::{AuthMode, Outcome, PendingVerification, Presentation};
use crate::remote::KeyCacheStatus;
use crate::scope_set::ScopeSource;
use crate::token::VerifiedToken;
use crate::token_cache::{CachedToken, TokenCache};
use crate::token_source::TokenSource;
use crate::validation::ClaimsPolicy;

/// Verifies bearer access tokens. Build it once; clones share everything.
///
/// Checks, in order, stopping at the first failure: size cap, compact JWS shape, header
/// (`alg` allow-list, no `crit`), the issuer (with several trusted issuers: by the
/// unverified `iss`, before any key fetch), key (by `kid`, or the single compatible key
/// of that issuer), signature, then claims (`typ`, `cnf`, claim types, `iss`, `aud`, `exp`, `nbf`, `iat`, max age,
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
    issuers: Issuers,
    policy: ClaimsPolicy,
    scope_source: ScopeSource,
    rules: Vec<ClaimRule>,
    allow_query_token: bool,
    unavailable_as_invalid_token: bool,
    cache: Option<TokenCache>,
    clock: Clock,
    dpop: Option<Dpop>,
    /// `algs` of DPoP challenges, rendered once.
    dpop_algs: Arc<str>,
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
            aliases,
            additional_issuers,
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
            token_cache,
            clock,
            dpop,
        } = config;
        let primary = Issuer {
            names: std::iter::once(issuer).chain(aliases).collect(),
            keys,
        };
        let issuers = Issuers::new(
            std::iter::once(primary).chain(additional_issuers).collect(),
            VerifierConfig::MAX_ISSUERS,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                algorithms,
                max_token_size,
                issuers,
                policy: ClaimsPolicy {
                    accept_bound: dpop.is_some(),
                    audiences,
                    leeway: leeway.as_secs(),
                    max_age: max_age.map(|age| age.as_secs()),
                    profile,
                },
                scope_source,
                rules,
                allow_query_token,
                unavailable_as_invalid_token,
                cache: (token_cache > 0).then(|| TokenCache::new(token_cache)),
                clock,
                dpop_algs: Arc::from(dpop.as_ref().map(Dpop::algs).unwrap_or_default()),
                dpop,
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
        let found = extract_bearer(authorization, query, self.inner.allow_query_token);
        self.decide(found, mode, Presentation::Bearer)
    }

    /// [`authenticate_now`](Self::authenticate_now) with the token read from `sources`
    /// (see [`TokenSource::find`]); `headers(name)` gives every value of a header.
    pub fn authenticate_from_now<'a, F, H>(
        &self,
        sources: &[TokenSource],
        headers: F,
        query: Option<&'a str>,
        mode: AuthMode,
    ) -> Outcome
    where
        F: Fn(&str) -> H,
        H: IntoIterator<Item = &'a [u8]>,
    {
        let found = TokenSource::find(sources, headers, query, self.inner.allow_query_token);
        self.decide(found, mode, Presentation::Bearer)
    }

    /// Whether DPoP is configured: adapters then pass the request's method and target
    /// through [`authenticate_http_now`](Self::authenticate_http_now).
    pub fn uses_dpop(&self) -> bool {
        self.inner.dpop.is_some()
    }

    /// Decides a request as [`authenticate_from_now`](Self::authenticate_from_now) does
    /// (`sources` `None`: the `Authorization` header), and, with [DPoP](crate::Dpop)
    /// configured, also reads `Authorization: DPoP` with its `DPoP` proof, checked against
    /// `method` and the request `target` (as received: `/path?query`, or absolute).
    /// Adapters call this when the verifier uses DPoP or the layer names token sources.
    pub fn authenticate_http_now<'a, F, H>(
        &self,
        sources: Option<&[TokenSource]>,
        headers: F,
        method: &str,
        target: &'a str,
        mode: AuthMode,
    ) -> Outcome
    where
        F: Fn(&str) -> H,
        H: IntoIterator<Item = &'a [u8]>,
    {
        let query = target.split_once('?').map(|(_, query)| query);
        let sources = sources.unwrap_or(&[TokenSource::Authorization]);
        let Some(dpop) = &self.inner.dpop else {
            return self.authenticate_from_now(sources, headers, query, mode);
        };
        match crate::bearer::dpop_credentials(headers("authorization")) {
            Ok(Some(token)) => {
                let proofs: Vec<&[u8]> = headers("dpop").into_iter().collect();
                let presentation = match proofs.as_slice() {
                    [proof] => {
                        let host = headers("host").into_iter().next();
                        let host = host.and_then(|host| std::str::from_utf8(host).ok());
                        match (std::str::from_utf8(proof), dpop.expected_htu(target, host)) {
                            (Ok(proof), Some(htu)) => Ok(Presentation::Dpop {
                                proof: proof.trim().to_owned(),
                                method: method.to_owned(),
                                htu,
                            }),
                            _ => Err(ErrorKind::InvalidDpopProof),
                        }
                    }
                    [] => Err(ErrorKind::InvalidDpopProof),
                    _ => Err(ErrorKind::InvalidRequest),
                };
                match presentation {
                    Ok(presentation) => self.decide(Ok(Cow::Borrowed(token)), mode, presentation),
                    Err(kind) => self.reject(kind.into(), true),
                }
            }
            // Only DPoP counts: other credentials are refused, not taken as anonymous.
            Ok(None) if dpop.mode == crate::DpopMode::Required => {
                if headers("authorization").into_iter().next().is_some() {
                    self.reject(ErrorKind::MissingCredentials.into(), false)
                } else {
                    let none = Err(ErrorKind::MissingCredentials.into());
                    self.decide(none, mode, Presentation::Bearer)
                }
            }
            Ok(None) => {
                let found =
                    TokenSource::find(sources, headers, query, self.inner.allow_query_token);
                self.decide(found, mode, Presentation::Bearer)
            }
            Err(error) => self.decide(Err(error), mode, Presentation::Bearer),
        }
    }

    /// The outcome for the credentials found (or not) in a request.
    fn decide(
        &self,
        found: Result<Cow<'_, str>, AuthError>,
        mode: AuthMode,
        presentation: Presentation,
    ) -> Outcome {
        let token = match found {
            Ok(token) => token,
            Err(error)
                if error.kind() == ErrorKind::MissingCredentials && mode == AuthMode::Optional =>
            {
                audit::anonymous();
                return Outcome::Anonymous;
            }
            Err(error) => {
                return self.reject(error, matches!(presentation, Presentation::Dpop { .. }));
            }
        };
        match self.verify_now_as(&token, &presentation) {
            Some(Ok(verified)) => Outcome::Authenticated(verified),
            Some(Err(error)) => Outcome::Rejected(error),
            None => Outcome::Pending(PendingVerification::new(
                self.clone(),
                token.into_owned(),
                presentation,
            )),
        }
    }

    /// Refuses a request whose credentials could not be read; `presented_dpop` says
    /// whether they came with the `DPoP` scheme, for the challenge.
    fn reject(&self, error: AuthError, presented_dpop: bool) -> Outcome {
        audit::token_rejected(error.kind());
        Outcome::Rejected(error.with_dpop_challenge(self.dpop_challenge(presented_dpop)))
    }

    /// Verifies one token, presented as a bearer token.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        match self.verify_now(token) {
            Some(result) => result,
            None => self.verify_after_fetch(token, &Presentation::Bearer).await,
        }
    }

    /// Verifies one token, presented as a bearer token, if its key is at hand (static
    /// keys, or cached keys naming its `kid`); `None` when the issuer's keys must be
    /// fetched first. A DPoP-bound token is refused: it needs a proof.
    pub fn verify_now(&self, token: &str) -> Option<Result<VerifiedToken, AuthError>> {
        self.verify_now_as(token, &Presentation::Bearer)
    }

    fn verify_now_as(
        &self,
        token: &str,
        presentation: &Presentation,
    ) -> Option<Result<VerifiedToken, AuthError>> {
        if let Some(hit) = self.cached(token) {
            return Some(self.audited(self.presented(Ok(hit), token, presentation), presentation));
        }
        let result = match self.prepare(token) {
            Ok(prepared) => {
                let issuer = self.inner.issuers.get(prepared.issuer);
                match issuer.keys.keys_now(prepared.header.kid.as_deref())? {
                    Ok(keys) => self.finish(prepared, &keys),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        Some(self.audited(self.presented(result, token, presentation), presentation))
    }

    /// The slow path of [`verify`](Self::verify): waits for the issuer's keys.
    pub(crate) async fn verify_after_fetch(
        &self,
        token: &str,
        presentation: &Presentation,
    ) -> Result<VerifiedToken, AuthError> {
        let result = match self.prepare(token) {
            Ok(prepared) => {
                let issuer = self.inner.issuers.get(prepared.issuer);
                match issuer.keys.keys_for(prepared.header.kid.as_deref()).await {
                    Ok(keys) => self.finish(prepared, &keys),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        self.audited(self.presented(result, token, presentation), presentation)
    }

    /// A verified token checked against how it was presented: a bound token needs the
    /// `DPoP` scheme (RFC 9449 §7.2), and then a proof that fits it and the request.
    fn presented(
        &self,
        verified: Result<VerifiedToken, AuthError>,
        token: &str,
        presentation: &Presentation,
    ) -> Result<VerifiedToken, AuthError> {
        let verified = verified?;
        match (presentation, &self.inner.dpop) {
            (Presentation::Bearer, _) if verified.claim("cnf").is_some() => {
                Err(ErrorKind::SenderConstrained.into())
            }
            (Presentation::Bearer, _) => Ok(verified),
            (Presentation::Dpop { proof, method, htu }, Some(dpop)) => {
                let request = ProofRequest {
                    proof,
                    method,
                    htu,
                    access_token: token,
                };
                let leeway = self.inner.policy.leeway;
                dpop.check(&request, &verified, self.inner.clock.now(), leeway)?;
                Ok(verified)
            }
            (Presentation::Dpop { .. }, None) => Err(ErrorKind::MissingCredentials.into()),
        }
    }

    /// The DPoP challenge of this verifier's refusals (`None` without DPoP).
    fn dpop_challenge(&self, presented: bool) -> Option<DpopChallenge> {
        let dpop = self.inner.dpop.as_ref()?;
        Some(DpopChallenge {
            algs: Arc::clone(&self.inner.dpop_algs),
            required: dpop.mode == crate::DpopMode::Required,
            presented,
        })
    }

    /// Fetches the issuers' keys now, e.g. at startup to fail fast on a wrong issuer.
    /// Every trusted issuer is tried; fails with [`ErrorKind::KeysUnavailable`] if the keys
    /// of any cannot be obtained. A no-op for static keys.
    pub async fn refresh_keys(&self) -> Result<(), AuthError> {
        let mut outcome = Ok(());
        for issuer in self.inner.issuers.iter() {
            let refreshed = issuer.keys.refresh().await;
            outcome = outcome.and(refreshed);
        }
        outcome
    }

    /// The state of the primary issuer's remote key cache, for health endpoints; `None`
    /// for static keys.
    pub fn key_status(&self) -> Option<KeyCacheStatus> {
        self.inner.issuers.primary().keys.status()
    }

    /// The state of the key cache of the trusted issuer named `iss` (a name or alias);
    /// `None` for an issuer with static keys or one not trusted.
    pub fn issuer_key_status(&self, iss: &str) -> Option<KeyCacheStatus> {
        let index = self.inner.issuers.position(iss)?;
        self.inner.issuers.get(index).keys.status()
    }

    fn audited(
        &self,
        mut result: Result<VerifiedToken, AuthError>,
        presentation: &Presentation,
    ) -> Result<VerifiedToken, AuthError> {
        if self.inner.unavailable_as_invalid_token {
            result = result.map_err(AuthError::unavailable_as_invalid_token);
        }
        if self.inner.dpop.is_some() {
            let presented = matches!(presentation, Presentation::Dpop { .. });
            result =
                result.map_err(|error| error.with_dpop_challenge(self.dpop_challenge(presented)));
        }
        match &result {
            Ok(verified) => audit::token_accepted(verified),
            Err(error) => audit::token_rejected(error.kind()),
        }
        result
    }

    /// A cached verification of exactly `token` that still holds: same key set, time claims
    /// still valid. An entry that no longer holds is dropped.
    fn cached(&self, token: &str) -> Option<VerifiedToken> {
        let cache = self.inner.cache.as_ref()?;
        let entry = cache.get(token)?;
        let keys = &self.inner.issuers.get(entry.issuer).keys;
        let current = match keys.keys_now(entry.kid.as_deref()) {
            Some(Ok(keys)) => keys,
            // Keys must be fetched or are unavailable: decide on the full path.
            _ => return None,
        };
        if current.id() != entry.key_set || self.inner.clock.now() >= entry.valid_until {
            cache.remove(token);
            return None;
        }
        Some(entry.token)
    }

    /// The first second at which `verified` fails the time checks (`exp`, maximum age).
    fn valid_until(&self, verified: &VerifiedToken) -> u64 {
        let policy = &self.inner.policy;
        let expiry = verified.expires_at().saturating_add(policy.leeway);
        match (policy.max_age, verified.issued_at()) {
            (Some(max_age), Some(iat)) => {
                let too_old = iat
                    .saturating_add(max_age)
                    .saturating_add(policy.leeway)
                    .saturating_add(1);
                expiry.min(too_old)
            }
            _ => expiry,
        }
    }

    /// Everything before the key: size, shape, base64url, header and `alg`, and which
    /// trusted issuer's keys to use.
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
        // One issuer: its keys, and `iss` is checked with the other claims once signed.
        // Several: the unverified `iss` chooses whose keys may verify the token.
        let (issuer, claims) = if inner.issuers.needs_selection() {
            let claims = parse_object(&payload).ok_or(ErrorKind::MalformedToken)?;
            let issuer = match claims.get("iss") {
                Some(serde_json::Value::String(iss)) => inner
                    .issuers
                    .position(iss)
                    .ok_or(ErrorKind::InvalidIssuer)?,
                Some(_) => return Err(ErrorKind::InvalidClaim.into()),
                None => return Err(ErrorKind::MissingClaim.into()),
            };
            (issuer, Some(claims))
        } else {
            (0, None)
        };
        Ok(Prepared {
            token,
            header,
            signing_input,
            signature,
            payload,
            issuer,
            claims,
        })
    }

    /// Everything from the key on: selection, signature, claims, rules, scopes.
    fn finish(&self, prepared: Prepared<'_>, keys: &KeySet) -> Result<VerifiedToken, AuthError> {
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
        let claims = match prepared.claims {
            Some(claims) => claims,
            None => parse_object(&prepared.payload).ok_or(ErrorKind::MalformedToken)?,
        };
        let issuer_names = &inner.issuers.get(prepared.issuer).names;
        let expires_at = inner.policy.validate(
            header.typ.as_deref(),
            &claims,
            inner.clock.now(),
            issuer_names,
        )?;
        if !inner.rules.iter().all(|rule| rule.is_satisfied_by(&claims)) {
            return Err(ErrorKind::ClaimRuleFailed.into());
        }
        let scopes = inner.scope_source.read(&claims);
        let bound = claims.contains_key("cnf");
        let verified = VerifiedToken::new(claims, scopes, expires_at, header.alg)
            .with_dpop_challenge(self.dpop_challenge(bound));
        if let Some(cache) = &inner.cache {
            let entry = CachedToken {
                token: verified.clone(),
                issuer: prepared.issuer,
                kid: header.kid.as_deref().map(Box::from),
                key_set: keys.id(),
                valid_until: self.valid_until(&verified),
            };
            cache.insert(prepared.token, entry);
        }
        Ok(verified)
    }
}

/// A token between [`Verifier::prepare`] and [`Verifier::finish`].
struct Prepared<'t> {
    token: &'t str,
    header: Header,
    signing_input: &'t str,
    signature: &'t str,
    payload: Vec<u8>,
    /// The trusted issuer whose keys may verify it.
    issuer: usize,
    /// The payload, when it was parsed to choose the issuer.
    claims: Option<serde_json::Map<String, serde_json::Value>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.inner.issuers)
            .field("audiences", &self.inner.policy.audiences)
            .field("algorithms", &self.inner.algorithms)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::TestIssuer;

    #[tokio::test]
    async fn verified_tokens_are_cached_and_served_from_the_cache() {
        let issuer = TestIssuer::new();
        let verifier = issuer.verifier().expect("verifier");
        let cache = verifier.inner.cache.as_ref().expect("on by default");
        let token = issuer.token().scope("read:orders").sign();
        verifier.verify(&token).await.expect("valid");
        assert_eq!(cache.len(), 1);
        assert!(
            verifier.cached(&token).is_some(),
            "the second verification is a hit"
        );
        // Failures are never cached.
        assert!(
            verifier
                .verify(&issuer.token().expired().sign())
                .await
                .is_err()
        );
        assert_eq!(cache.len(), 1);
        let off = issuer
            .verifier_config()
            .token_cache(0)
            .build()
            .expect("verifier");
        assert!(off.inner.cache.is_none());
    }
}
