//! One request through the proxy: message checks (method, framing, host, upgrade),
//! canonical path, route (one reading in any letter case), token, rule, then the
//! upstream.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use scopegate_core::{Access, AuthError, Authenticator, Outcome, VerifiedToken, Verifier};

use crate::config::{ProxyConfig, ProxyConfigError};
use crate::credentials::{join_cookies, withhold_credentials};
use crate::forward_auth::ForwardAuth;
use crate::headers::{HeaderPolicy, Origin, remove_hop_by_hop};
use crate::message::check_message;
use crate::path::canonical_path;
use crate::request_body::{BodyFailure, ClientBody};
use crate::routes::Routes;
use crate::trusted::TrustedProxies;
use crate::tunnel::{TunnelLimits, relay};
use crate::upgrade::{WEBSOCKET, websocket_accepted, websocket_requested};
use crate::upstream_permits::{PermittedBody, UpstreamPermit, UpstreamPermits};

/// The body of every response the proxy sends: the upstream's, streamed, or its own.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// The realm of the proxy's challenges.
const REALM: &str = "api";

/// The proxy: routes, verifier, header rules and the upstream client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Proxy(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    routes: Routes,
    /// For requests no route matches.
    authenticator: Authenticator,
    headers: HeaderPolicy,
    trusted: TrustedProxies,
    client: Client<HttpConnector, ClientBody>,
    upstream_timeout: Duration,
    forward_auth: Option<ForwardAuth>,
    tunnel_idle_timeout: Duration,
    upstream_permits: UpstreamPermits,
}

impl Proxy {
    /// Builds the proxy from its configuration and a verifier for `[issuer]` (or the
    /// dev issuer). Call inside a tokio runtime.
    pub fn new(config: &ProxyConfig, verifier: Verifier) -> Result<Self, ProxyConfigError> {
        let forwarding = &config.forwarding;
        let mut headers = HeaderPolicy::new(
            &forwarding.subject_header,
            &forwarding.scopes_header,
            &forwarding.client_id_header,
            &forwarding.strip_headers,
            forwarding.forward_authorization,
        )
        .and_then(|policy| policy.with_issuer_header(&forwarding.issuer_header))
        .map_err(ProxyConfigError::Forwarding)?;
        if let Some(host) = &forwarding.public_host {
            headers = headers
                .with_public_host(host)
                .map_err(ProxyConfigError::Forwarding)?;
        }
        if forwarding.tunnel_idle_timeout_secs == 0 {
            return Err(ProxyConfigError::Forwarding(
                "tunnel_idle_timeout_secs must be at least 1".into(),
            ));
        }
        let forward_auth = (config.forward_auth.as_ref())
            .map(|forward_auth| ForwardAuth::new(forward_auth, &headers))
            .transpose()?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        let mut authenticator = Authenticator::new(verifier).optional();
        if let Some(sources) = config.token_sources()? {
            authenticator = authenticator.token_sources(sources);
        }
        Ok(Self(Arc::new(Inner {
            routes: Routes::new(&config.routes, &authenticator)?,
            authenticator,
            headers,
            trusted: config.trusted_proxies()?,
            client: Client::builder(TokioExecutor::new()).build(connector),
            upstream_timeout: Duration::from_secs(forwarding.upstream_timeout_secs),
            forward_auth,
            tunnel_idle_timeout: Duration::from_secs(forwarding.tunnel_idle_timeout_secs),
            upstream_permits: UpstreamPermits::new(&config.server, config.trusted_proxies()?)?,
        })))
    }

    /// Answers one request from `peer`. Never fails: refusals and upstream trouble are
    /// responses.
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let inner = &*self.0;
        if let Some(forward_auth) = (inner.forward_auth.as_ref()).filter(|f| f.serves(&request)) {
            let answer = forward_auth.answer(&inner.routes, &inner.authenticator, request, peer);
            return Ok(answer.await);
        }
        Ok(self.answer(request, peer).await)
    }

    async fn answer(
        &self,
        mut request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<ProxyBody> {
        let inner = &*self.0;
        if let Err(refusal) = check_message(&request) {
            return own_response(
                refusal.status(),
                refusal.error_code(),
                refusal.description(),
            );
        }
        let Ok(websocket) = websocket_requested(&request) else {
            return own_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Only WebSocket upgrades are accepted",
            );
        };
        let Ok(path) = canonical_path(request.uri().path()) else {
            return own_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request path is not accepted",
            );
        };
        let Ok(route) = inner.routes.find(request.method(), &path) else {
            return case_conflict();
        };
        let authenticator = route.map_or(&inner.authenticator, |route| route.authenticator());
        let token = match authenticate(authenticator, &request).await {
            Ok(token) => token,
            Err(error) => return refusal(&error),
        };
        let decision = match route {
            Some(route) => route
                .access()
                .authorize(token.as_ref(), true)
                .map(|()| route),
            None => Err(Access::unlisted(token.as_ref(), true)),
        };
        let route = match decision {
            Ok(route) => route,
            Err(error) => return refusal(&error),
        };
        // HTTP/2 carries the host in the URI: keep it for X-Forwarded-Host.
        let h2_host = request
            .uri()
            .authority()
            .filter(|_| !request.headers().contains_key(HOST))
            .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok());
        if let Some(host) = h2_host {
            request.headers_mut().insert(HOST, host);
        }

        let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut request));
        let origin = Origin {
            peer: peer.ip(),
            trusted: inner.trusted.contains(peer.ip()),
        };
        let target = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let Ok(uri) = upstream_uri(route.upstream(), &target) else {
            return own_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request path is not accepted",
            );
        };
        *request.uri_mut() = uri;
        *request.version_mut() = http::Version::HTTP_11;
        inner.headers.request_headers(
            request.headers_mut(),
            origin,
            websocket.then_some(WEBSOCKET),
            token.as_ref(),
        );
        let sources = route.authenticator().sources();
        withhold_credentials(
            request.headers_mut(),
            sources,
            inner.headers.forwards_authorization(),
        );
        join_cookies(request.headers_mut());
        // Held until the response has been passed on (or the tunnel closed).
        let Some(permit) = inner.upstream_permits.try_acquire(peer.ip()) else {
            return too_many_in_flight();
        };
        let body_failure = BodyFailure::default();
        let request = request.map(|body| ClientBody::new(body, &body_failure));

        let sent =
            tokio::time::timeout(inner.upstream_timeout, inner.client.request(request)).await;
        let mut response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(_)) if body_failure.happened() => {
                // The client's body broke (malformed chunk, cut short): its fault.
                return own_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The request body is malformed or incomplete",
                );
            }
            Ok(Err(error)) => {
                tracing::warn!(target: "scopegate::proxy", %error, upstream = %route.upstream(), "upstream request failed");
                return own_response(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "The upstream service could not be reached",
                );
            }
            Err(_) => {
                tracing::warn!(target: "scopegate::proxy", upstream = %route.upstream(), "upstream timed out");
                return own_response(
                    StatusCode::GATEWAY_TIMEOUT,
                    "gateway_timeout",
                    "The upstream service did not answer in time",
                );
            }
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            // Only the WebSocket upgrade the client asked for is passed on.
            return match client_upgrade.filter(|_| websocket_accepted(&response)) {
                Some(client_upgrade) => {
                    let expires_at = token.as_ref().map(VerifiedToken::expires_at);
                    let limits = TunnelLimits::new(inner.tunnel_idle_timeout, expires_at);
                    tunnel(response, client_upgrade, limits, permit)
                }
                None => own_response(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "The upstream service answered with an unrequested upgrade",
                ),
            };
        }
        remove_hop_by_hop(response.headers_mut());
        response.map(|body| PermittedBody::new(body, permit).boxed())
    }
}

/// The verified token, `None` without credentials, or the refusal.
pub(crate) async fn authenticate(
    authenticator: &Authenticator,
    request: &Request<Incoming>,
) -> Result<Option<VerifiedToken>, AuthError> {
    match authenticator.authenticate(request) {
        Outcome::Authenticated(token) => Ok(Some(token)),
        Outcome::Anonymous => Ok(None),
        Outcome::Rejected(error) => Err(error),
        Outcome::Pending(pending) => pending.resolve().await.map(Some),
    }
}

fn upstream_uri(upstream: &Uri, target: &str) -> Result<Uri, http::Error> {
    let authority = upstream.authority().map_or("", |a| a.as_str());
    Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query(target)
        .build()
}

/// Answers the upgrade with the upstream's 101 and copies bytes both ways once both
/// sides have switched, within `limits` (the token's expiry, the idle time); `permit` is
/// held until the tunnel closes.
fn tunnel(
    mut response: Response<Incoming>,
    client: hyper::upgrade::OnUpgrade,
    limits: TunnelLimits,
    permit: UpstreamPermit,
) -> Response<ProxyBody> {
    let upstream = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        let _permit = permit;
        let (Ok(client), Ok(upstream)) = (client.await, upstream.await) else {
            return;
        };
        relay(TokioIo::new(client), TokioIo::new(upstream), limits).await;
    });
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, empty())
}

fn empty() -> ProxyBody {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

/// The 503 for a request over `max_upstream_requests` or its address's
/// `max_upstream_requests_per_ip`.
fn too_many_in_flight() -> Response<ProxyBody> {
    let mut response = own_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Too many requests are in progress; retry later",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The RFC 6750 answer for a refusal.
pub(crate) fn refusal(error: &AuthError) -> Response<ProxyBody> {
    error
        .to_response::<Full<Bytes>>(REALM)
        .map(|body| body.map_err(|never| match never {}).boxed())
}

/// The 400 for a path whose case-folded reading selects another route.
pub(crate) fn case_conflict() -> Response<ProxyBody> {
    own_response(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The request path has another route in another letter case",
    )
}

/// The proxy's own answer: status and a small JSON body with fixed text.
pub(crate) fn own_response(
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response<ProxyBody> {
    let body = format!(r#"{{"error":"{error}","error_description":"{description}"}}"#);
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
