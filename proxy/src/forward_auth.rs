//! Forward-auth mode: the decision without the forwarding, for front proxies that are
//! already in place (nginx `auth_request`, Traefik `forwardAuth`).
//!
//! A front proxy asks on the configured path, describes the client's request in
//! `X-Original-Method` / `X-Forwarded-Method` and `X-Original-URI` / `X-Forwarded-Uri`,
//! and passes the client's other headers (its token among them) on. That description is
//! believed only from a configured front proxy; anyone else gets 403. The original request
//! then goes where a proxied request goes: canonical path, route, token, rule. The answer
//! is 200 with the identity headers the front proxy copies onto the upstream request, the
//! RFC 6750 refusal (401/403 with `WWW-Authenticate`), or 400 when the original request
//! has no single reading. Every refusal has fixed text.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use scopegate_core::{Access, Authenticator};

use crate::case_fold::folded;
use crate::config::{ForwardAuthConfig, ProxyConfigError};
use crate::headers::{HeaderPolicy, comparable};
use crate::path::canonical_path;
use crate::proxy::{ProxyBody, authenticate, case_conflict, own_response, refusal};
use crate::routes::Routes;
use crate::trusted::TrustedProxies;

/// Headers naming the original method: nginx's usual name, Traefik's.
const METHOD_HEADERS: [&str; 2] = ["x-original-method", "x-forwarded-method"];

/// Headers carrying the original request target (path and query): nginx's usual name,
/// Traefik's.
const TARGET_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];

/// Headers with which upstreams replace a request's method or URL (Symfony, Laravel,
/// Express method-override; IIS, Symfony, Laminas). The proxy keeps them from the
/// upstream; here the front proxy forwards the request, so a request carrying one is
/// refused. Compared in [`comparable`] form.
const OVERRIDES: [&str; 5] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-url",
    "x-rewrite-url",
];

/// The forward-auth endpoint: its path, who may ask, and the identity headers it sets.
#[derive(Debug)]
pub(crate) struct ForwardAuth {
    path: String,
    front_proxies: TrustedProxies,
    headers: HeaderPolicy,
}

/// The client's request as a front proxy describes it.
#[derive(Debug)]
struct OriginalRequest {
    method: Method,
    /// The target as the client sent it (path and query): what the token is checked with.
    target: Uri,
    /// The canonical form of its path: what the routes are matched with.
    path: String,
}

/// Why a subrequest gets no decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejection {
    /// The peer is not a configured front proxy.
    NotFrontProxy,
    /// No method, methods that disagree, or one that is not accepted.
    Method,
    /// No target, targets that disagree, or one that is not an origin-form URI.
    Target,
    /// The target's path has no single reading (see [`canonical_path`]).
    Path,
    /// The client's request carries an identity or override header.
    ProxyOnlyHeader,
}

impl Rejection {
    fn response(self) -> Response<ProxyBody> {
        let (status, error, description) = match self {
            Self::NotFrontProxy => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forward-auth decisions are given only to the configured front proxies",
            ),
            Self::Method => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The original request method is missing, ambiguous or not accepted",
            ),
            Self::Target => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The original request URI is missing, ambiguous or unreadable",
            ),
            Self::Path => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request path is not accepted",
            ),
            Self::ProxyOnlyHeader => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request carries identity or override headers that only the proxy sets",
            ),
        };
        own_response(status, error, description)
    }
}

impl ForwardAuth {
    /// The endpoint for `config`; identity headers named and encoded as `headers` does.
    pub(crate) fn new(
        config: &ForwardAuthConfig,
        headers: &HeaderPolicy,
    ) -> Result<Self, ProxyConfigError> {
        if canonical_path(&config.path).ok().as_deref() != Some(config.path.as_str()) {
            return Err(ProxyConfigError::ForwardAuth(
                "path must be a canonical path, such as /_scopegate/auth".into(),
            ));
        }
        if config.front_proxies.is_empty() {
            return Err(ProxyConfigError::ForwardAuth(
                "front_proxies must name at least one address or network".into(),
            ));
        }
        let front_proxies = TrustedProxies::parse(&config.front_proxies).map_err(|entry| {
            ProxyConfigError::ForwardAuth(format!(
                "front_proxies: `{entry}` is not an address or network"
            ))
        })?;
        Ok(Self {
            path: config.path.clone(),
            front_proxies,
            headers: headers.clone(),
        })
    }

    /// Whether `request` is for this endpoint: its path reads as the configured one,
    /// in any spelling an upstream would take for it (`/_scopegate/%61uth`,
    /// `/_SCOPEGATE/auth`), so no spelling of it is ever forwarded.
    pub(crate) fn serves<B>(&self, request: &Request<B>) -> bool {
        let raw = request.uri().path();
        raw == self.path
            || canonical_path(raw).is_ok_and(|path| folded(&path) == folded(&self.path))
    }

    /// Answers a subrequest from `peer` about the original request it describes; the
    /// token is read as the original request's route reads it (`unrouted`: as requests
    /// no route takes are).
    pub(crate) async fn answer(
        &self,
        routes: &Routes,
        unrouted: &Authenticator,
        mut request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<ProxyBody> {
        let original = match self.original_request(peer.ip(), request.headers()) {
            Ok(original) => original,
            Err(rejection) => return rejection.response(),
        };
        let Ok(route) = routes.find(&original.method, &original.path) else {
            return case_conflict();
        };
        // The token is read and checked as if the original request had come here.
        *request.method_mut() = original.method;
        *request.uri_mut() = original.target;
        let authenticator = route.map_or(unrouted, |route| route.authenticator());
        let token = match authenticate(authenticator, &request).await {
            Ok(token) => token,
            Err(error) => return refusal(&error),
        };
        let decision = match route {
            Some(route) => route.access().authorize(token.as_ref(), true),
            None => Err(Access::unlisted(token.as_ref(), true)),
        };
        if let Err(error) = decision {
            return refusal(&error);
        }
        let mut response = Response::new(
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed(),
        );
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(token) = &token {
            self.headers.set_identity(headers, token);
        }
        response
    }

    /// The original request `headers` describe, believed only from a front proxy.
    fn original_request(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<OriginalRequest, Rejection> {
        if !self.front_proxies.contains(peer) {
            return Err(Rejection::NotFrontProxy);
        }
        let proxy_only = headers.keys().any(|name| {
            let name = comparable(name.as_str());
            self.headers
                .identity
                .iter()
                .any(|identity| *identity == name)
                || OVERRIDES.contains(&name.as_ref())
        });
        if proxy_only {
            return Err(Rejection::ProxyOnlyHeader);
        }
        let method = agreed(headers, &METHOD_HEADERS)
            .and_then(original_method)
            .ok_or(Rejection::Method)?;
        let target = agreed(headers, &TARGET_HEADERS).ok_or(Rejection::Target)?;
        let (target, path) = original_target(target)?;
        Ok(OriginalRequest {
            method,
            target,
            path,
        })
    }
}

/// The one value all copies of the `names` headers agree on; `None` when there is none
/// or they disagree (a client's copy next to the front proxy's, say).
fn agreed<'h>(headers: &'h HeaderMap, names: &[&str]) -> Option<&'h HeaderValue> {
    let mut values = names.iter().flat_map(|name| headers.get_all(*name));
    let first = values.next()?;
    values.all(|value| value == first).then_some(first)
}

/// An upper-case method other than `CONNECT` and `TRACE`, which the proxy refuses too.
fn original_method(value: &HeaderValue) -> Option<Method> {
    let bytes = value.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    Method::from_bytes(bytes)
        .ok()
        .filter(|method| *method != Method::CONNECT && *method != Method::TRACE)
}

/// An origin-form target (`/path?query`) kept exactly as written, and its canonical path.
fn original_target(value: &HeaderValue) -> Result<(Uri, String), Rejection> {
    let text = value.to_str().map_err(|_| Rejection::Target)?;
    if !text.starts_with('/') || text.contains('#') {
        return Err(Rejection::Target);
    }
    let target: Uri = text.parse().map_err(|_| Rejection::Target)?;
    if target.path_and_query().map(|p| p.as_str()) != Some(text) {
        return Err(Rejection::Target);
    }
    let path = canonical_path(target.path()).map_err(|_| Rejection::Path)?;
    Ok((target, path))
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;

    fn endpoint(front_proxies: &[&str]) -> ForwardAuth {
        let policy = HeaderPolicy::new(
            "x-auth-subject",
            "x-auth-scopes",
            "x-auth-client-id",
            &["x-user-email".into()],
            true,
        )
        .expect("policy");
        let config = ForwardAuthConfig {
            path: "/_scopegate/auth".into(),
            front_proxies: front_proxies.iter().map(|s| (*s).to_owned()).collect(),
        };
        ForwardAuth::new(&config, &policy).expect("endpoint")
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_bytes(value).expect("value"),
            );
        }
        headers
    }

    const FRONT: &str = "10.0.0.5";

    /// The method and canonical path read from `pairs` sent by the front proxy.
    fn read(pairs: &[(&str, &[u8])]) -> Result<(String, String, String), Rejection> {
        endpoint(&["10.0.0.0/24"])
            .original_request(FRONT.parse().expect("ip"), &headers(pairs))
            .map(|o| (o.method.to_string(), o.target.to_string(), o.path))
    }

    fn ok(method: &str, target: &str, path: &str) -> Result<(String, String, String), Rejection> {
        Ok((method.into(), target.into(), path.into()))
    }

    #[test]
    fn the_description_is_believed_only_from_front_proxies() {
        let nginx = headers(&[
            ("x-original-method", b"GET"),
            ("x-original-uri", b"/orders"),
            ("authorization", b"Bearer t"),
        ]);
        let endpoint = endpoint(&["10.0.0.0/24", "::1"]);
        for (peer, believed) in [
            ("10.0.0.5", true),
            ("::ffff:10.0.0.200", true),
            ("::1", true),
            ("10.0.1.5", false),
            ("127.0.0.1", false),
            ("203.0.113.9", false),
        ] {
            let read = endpoint.original_request(peer.parse().expect("ip"), &nginx);
            match read {
                Ok(original) => {
                    assert!(believed, "{peer}");
                    assert_eq!(
                        (original.method, original.path.as_str()),
                        (Method::GET, "/orders")
                    );
                }
                Err(rejection) => {
                    assert!(!believed, "{peer}");
                    assert_eq!(rejection, Rejection::NotFrontProxy, "{peer}");
                }
            }
        }
    }

    #[test]
    fn nginx_and_traefik_descriptions_are_read_the_same_way() {
        let expected = ok("DELETE", "/orders/7?force=1", "/orders/7");
        let nginx = [
            ("x-original-method", &b"DELETE"[..]),
            ("x-original-uri", b"/orders/7?force=1"),
        ];
        let traefik = [
            ("x-forwarded-method", &b"DELETE"[..]),
            ("x-forwarded-uri", b"/orders/7?force=1"),
            ("x-forwarded-proto", b"https"),
            ("x-forwarded-host", b"api.example.com"),
        ];
        assert_eq!(read(&nginx), expected);
        assert_eq!(read(&traefik), expected);
        // Both conventions at once are fine while they agree.
        assert_eq!(read(&[nginx.as_slice(), &traefik].concat()), expected);
        // The target keeps its spelling for the token check; the routes see the canonical path.
        assert_eq!(
            read(&[
                ("x-original-method", b"GET"),
                ("x-original-uri", b"/%6Frders?q=%41")
            ]),
            ok("GET", "/%6Frders?q=%41", "/orders")
        );
    }

    #[test]
    fn descriptions_without_one_reading_are_refused() {
        let method =
            |m: &'static [u8]| read(&[("x-original-method", m), ("x-original-uri", b"/a")]);
        for missing_or_bad in [
            &b""[..],
            b"get",
            b"Get",
            b"G ET",
            b"CONNECT",
            b"TRACE",
            b"GET,POST",
        ] {
            assert_eq!(
                method(missing_or_bad),
                Err(Rejection::Method),
                "{missing_or_bad:?}"
            );
        }
        assert_eq!(read(&[("x-original-uri", b"/a")]), Err(Rejection::Method));
        // A client's copy of the other convention that disagrees with the front proxy's.
        assert_eq!(
            read(&[
                ("x-original-method", b"POST"),
                ("x-forwarded-method", b"GET"),
                ("x-original-uri", b"/a"),
            ]),
            Err(Rejection::Method)
        );
        assert_eq!(
            read(&[
                ("x-original-method", b"GET"),
                ("x-original-uri", b"/admin"),
                ("x-forwarded-uri", b"/public"),
            ]),
            Err(Rejection::Target)
        );
        assert_eq!(
            read(&[
                ("x-original-method", b"GET"),
                ("x-original-uri", b"/admin"),
                ("x-original-uri", b"/public"),
            ]),
            Err(Rejection::Target)
        );

        let target =
            |t: &'static [u8]| read(&[("x-original-method", b"GET"), ("x-original-uri", t)]);
        assert_eq!(
            read(&[("x-original-method", b"GET")]),
            Err(Rejection::Target)
        );
        for unreadable in [
            &b""[..],
            b"*",
            b"orders",
            b"http://api.example.com/orders",
            b"//evil.example/orders",
            b"/orders#x",
            b"/a b",
            b"/a\tb",
            b"/caf\xc3\xa9",
            b"/a\"b",
        ] {
            let rejection = target(unreadable).expect_err(&String::from_utf8_lossy(unreadable));
            assert!(
                matches!(rejection, Rejection::Target | Rejection::Path),
                "{unreadable:?}: {rejection:?}"
            );
        }
        for ambiguous in [
            &b"/public/..%2Fadmin"[..],
            b"/public/%2e%2e/admin",
            b"/public/../admin",
            b"/public//admin",
            b"/admin%2Fx",
            b"/public;x/../admin",
            b"/public/%5C..%5Cadmin",
        ] {
            assert_eq!(target(ambiguous), Err(Rejection::Path), "{ambiguous:?}");
        }
    }

    #[test]
    fn identity_and_override_headers_from_the_client_are_refused_in_every_spelling() {
        for (name, value) in [
            ("x-auth-subject", &b"admin"[..]),
            ("x_auth_subject", b"admin"),
            ("x-auth_scopes", b"delete:everything"),
            ("x-auth-client-id", b"trusted-app"),
            ("x_user-email", b"ceo@example.com"),
            ("x-http-method-override", b"DELETE"),
            ("x_http_method", b"DELETE"),
            ("x-method-override", b"DELETE"),
            ("x-original-url", b"/admin"),
            ("x-rewrite-url", b"/admin"),
            ("X-Auth.Subject", b"admin"),
            ("x-http-method.override", b"DELETE"),
        ] {
            assert_eq!(
                read(&[
                    ("x-original-method", b"POST"),
                    ("x-original-uri", b"/orders"),
                    (name, value),
                ]),
                Err(Rejection::ProxyOnlyHeader),
                "{name}"
            );
        }
    }

    #[test]
    fn the_endpoint_serves_its_path_in_every_spelling() {
        let endpoint = endpoint(&[FRONT]);
        let request = |target: &str| Request::get(target).body(()).expect("request");
        // Every spelling an upstream reads as the endpoint's path is the endpoint's:
        // none is ever forwarded.
        for spelling in [
            "/_scopegate/auth",
            "/_scopegate/auth?x=1",
            "/_scopegate/%61uth",
            "/_SCOPEGATE/auth",
            "/_scopegate/autH",
        ] {
            assert!(endpoint.serves(&request(spelling)), "{spelling}");
        }
        for other in ["/_scopegate/auth/", "/_scopegate", "/_scopegate/auth2", "/"] {
            assert!(!endpoint.serves(&request(other)), "{other}");
        }
    }

    #[test]
    fn configuration_mistakes_are_reported() {
        let policy = HeaderPolicy::new("a", "b", "c", &[], true).expect("policy");
        for (path, front_proxies, problem) in [
            (
                "_scopegate/auth",
                vec!["10.0.0.1"],
                "path must be a canonical path",
            ),
            (
                "/a/../auth",
                vec!["10.0.0.1"],
                "path must be a canonical path",
            ),
            ("/%61uth", vec!["10.0.0.1"], "path must be a canonical path"),
            ("/auth", vec![], "front_proxies must name at least one"),
            (
                "/auth",
                vec!["10.0.0.0/33"],
                "`10.0.0.0/33` is not an address",
            ),
        ] {
            let config = ForwardAuthConfig {
                path: path.into(),
                front_proxies: front_proxies.into_iter().map(String::from).collect(),
            };
            let error = ForwardAuth::new(&config, &policy)
                .expect_err(path)
                .to_string();
            assert!(error.starts_with("[forward_auth]: "), "{error}");
            assert!(error.contains(problem), "{path}: {error}");
        }
    }
}
