//! What crosses the proxy in headers: hop-by-hop headers dropped, identity headers
//! only from the proxy, method and URL overrides never, `X-Forwarded-*` and the
//! client-IP family only from trusted proxies.
//!
//! Every name is compared as upstreams in other languages may read it: in any case and
//! with `_` for `-` (CGI, WSGI, PHP and Rack read both as `HTTP_X_FORWARDED_HOST`).

use std::borrow::Cow;
use std::fmt::Write;
use std::net::IpAddr;

use http::header::{CONNECTION, HOST, HeaderMap, HeaderName, HeaderValue, UPGRADE};
use scopegate_core::VerifiedToken;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1;
/// `HTTP2-Settings`, RFC 7540 §3.2.1), plus the proxy's own credentials.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "http2-settings",
];

/// Headers upstreams read as the request's real method or URL (Symfony, Laravel,
/// Express's method-override, IIS URL Rewrite, Laminas; nginx `auth_request`):
/// removed from every request, trusted peer or not, since the route was chosen by the
/// request line.
const OVERRIDES: [&str; 7] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-url",
    "x-rewrite-url",
    "x-original-method",
    "x-original-uri",
];

/// Headers, besides every `x-forwarded*`, describing the client, its address, host or
/// scheme as some proxy or CDN saw it: kept only from trusted proxies.
const CLIENT_FACTS: &[&str] = &[
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "cf-visitor",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "x-original-forwarded-for",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-proxyuser-ip",
    "proxy-client-ip",
    "wl-proxy-client-ip",
    "x-envoy-external-address",
    "x-original-host",
    "x-host",
    "front-end-https",
    "x-url-scheme",
    "x-scheme",
    "x-arr-clientcert",
    "x-arr-ssl",
    "ssl-client-cert",
    "x-client-cert",
    "x-client-verify",
];

/// Whether `name` (in [`comparable`] form) describes the client as a proxy saw it.
fn is_client_fact(name: &str) -> bool {
    name.starts_with("x-forwarded") || name.starts_with("x-ssl-") || CLIENT_FACTS.contains(&name)
}

/// The header rules of one proxy.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    pub(crate) subject: HeaderName,
    pub(crate) scopes: HeaderName,
    pub(crate) client_id: HeaderName,
    /// Identity headers in [`comparable`] form: removed from clients' requests.
    pub(crate) identity: Vec<String>,
    pub(crate) forward_authorization: bool,
    /// Sent as `X-Forwarded-Host` instead of the client's `Host`.
    pub(crate) public_host: Option<HeaderValue>,
    /// Carries the token's `iss`, when set.
    pub(crate) issuer: Option<HeaderName>,
}

/// What the upstream may know of the request's origin.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The connecting peer.
    pub peer: IpAddr,
    /// Whether the peer is a trusted proxy.
    pub trusted: bool,
}

/// A header name as upstreams in other languages may read it: lower case, with `_` and
/// `.` as `-` (CGI, WSGI, PHP and Rack map `x_auth_subject` to `HTTP_X_AUTH_SUBJECT`,
/// and PHP maps `x-auth.subject` there too).
pub(crate) fn comparable(name: &str) -> Cow<'_, str> {
    if !name
        .bytes()
        .any(|b| b == b'_' || b == b'.' || b.is_ascii_uppercase())
    {
        return Cow::Borrowed(name);
    }
    Cow::Owned(
        name.bytes()
            .map(|b| match b {
                b'_' | b'.' => '-',
                _ => char::from(b.to_ascii_lowercase()),
            })
            .collect(),
    )
}

impl HeaderPolicy {
    /// The policy with these identity header names and extra names to strip.
    pub fn new(
        subject: &str,
        scopes: &str,
        client_id: &str,
        strip: &[String],
        forward_authorization: bool,
    ) -> Result<Self, String> {
        let name = |n: &str| {
            HeaderName::from_bytes(n.as_bytes()).map_err(|_| format!("`{n}` is not a header name"))
        };
        let identity = [subject, scopes, client_id]
            .into_iter()
            .chain(strip.iter().map(String::as_str))
            .map(|n| name(n).map(|h| comparable(h.as_str()).into_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            subject: name(subject)?,
            scopes: name(scopes)?,
            client_id: name(client_id)?,
            identity,
            forward_authorization,
            public_host: None,
            issuer: None,
        })
    }

    /// Sends the token's `iss` in the header `name` (removed from clients' requests in
    /// every spelling, like the other identity headers); `""`: not sent, while
    /// `x-auth-issuer` is still removed from clients.
    pub fn with_issuer_header(mut self, name: &str) -> Result<Self, String> {
        let spelled = if name.is_empty() {
            "x-auth-issuer"
        } else {
            name
        };
        let header = HeaderName::from_bytes(spelled.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        self.identity.push(comparable(header.as_str()).into_owned());
        self.issuer = (!name.is_empty()).then_some(header);
        Ok(self)
    }

    /// Sends `host` (`api.example.com`, `api.example.com:8443`) as `X-Forwarded-Host`,
    /// whatever the client's `Host` or a trusted proxy's `X-Forwarded-Host` says.
    pub fn with_public_host(mut self, host: &str) -> Result<Self, String> {
        let authority: http::uri::Authority = host
            .parse()
            .map_err(|_| format!("public_host: `{host}` is not a host"))?;
        if authority.as_str().contains('@') || authority.as_str() != host {
            return Err(format!("public_host: `{host}` is not a host"));
        }
        self.public_host = Some(
            HeaderValue::from_str(host)
                .map_err(|_| format!("public_host: `{host}` is not a host"))?,
        );
        Ok(self)
    }

    /// Rewrites a client's request headers for the upstream (credentials aside: see
    /// [`HeaderPolicy::forwards_authorization`]): hop-by-hop, identity and
    /// override headers removed, the client-IP family removed unless `origin` is
    /// trusted, `X-Forwarded-For/-Proto/-Host` set, the token's identity added.
    /// `upgrade`: the protocol of a connection upgrade being forwarded.
    pub fn request_headers(
        &self,
        headers: &mut HeaderMap,
        origin: Origin,
        upgrade: Option<HeaderValue>,
        token: Option<&VerifiedToken>,
    ) {
        remove_hop_by_hop(headers);
        let host = headers.remove(HOST);
        // Collect only what goes (usually nothing): no copy of every name per request.
        let mut removed: Vec<HeaderName> = Vec::new();
        for name in headers.keys() {
            let comparable = comparable(name.as_str());
            // A trusted proxy vouches for its own spelling only: `x_forwarded_for`
            // passed through it is the client's, and reaches CGI-style upstreams as
            // `HTTP_X_FORWARDED_FOR` too.
            let underscored = name.as_str().contains(['_', '.']);
            let vouched = origin.trusted && !underscored;
            // `transfer_encoding` or `content_length` reach CGI-style upstreams as
            // framing headers (`HTTP_TRANSFER_ENCODING`) the proxy did not frame by.
            let framing = underscored
                && (HOP_BY_HOP.contains(&comparable.as_ref()) || comparable == "content-length");
            if self.identity.iter().any(|identity| *identity == comparable)
                || OVERRIDES.contains(&comparable.as_ref())
                || framing
                || (!vouched && is_client_fact(&comparable))
            {
                removed.push(name.clone());
            }
        }
        for name in removed {
            headers.remove(&name);
        }
        self.set_forwarded(headers, origin, host);
        if let Some(protocol) = upgrade {
            headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(UPGRADE, protocol);
        }
        if let Some(token) = token {
            self.set_identity(headers, token);
        }
    }

    /// Sets the identity headers of `token`: the upstream's in proxy mode, the front
    /// proxy's to copy in forward-auth mode.
    pub(crate) fn set_identity(&self, headers: &mut HeaderMap, token: &VerifiedToken) {
        if let Some(subject) = token.subject() {
            headers.insert(self.subject.clone(), encoded(subject));
        }
        headers.insert(self.scopes.clone(), encoded(&token.scopes().to_string()));
        if let Some(client_id) = token.client_id() {
            headers.insert(self.client_id.clone(), encoded(client_id));
        }
        if let Some(issuer) = &self.issuer {
            headers.insert(issuer.clone(), encoded(token.issuer()));
        }
    }

    /// Whether the route's verified credentials may reach the upstream
    /// (`forward_authorization`); the proxy withholds the rest.
    pub fn forwards_authorization(&self) -> bool {
        self.forward_authorization
    }

    fn set_forwarded(&self, headers: &mut HeaderMap, origin: Origin, host: Option<HeaderValue>) {
        const XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
        const PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
        const XFH: HeaderName = HeaderName::from_static("x-forwarded-host");
        let peer = origin.peer.to_canonical().to_string();
        // Earlier proxies' entries stay only when the peer is trusted (removed above otherwise).
        let chain = headers
            .get_all(&XFF)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let chain = if chain.is_empty() {
            peer
        } else {
            format!("{chain}, {peer}")
        };
        headers.remove(&XFF);
        if let Ok(value) = HeaderValue::from_str(&chain) {
            headers.insert(XFF, value);
        }
        if !headers.contains_key(&PROTO) {
            headers.insert(PROTO, HeaderValue::from_static("http"));
        }
        if let Some(public) = &self.public_host {
            headers.insert(XFH, public.clone());
        } else if let Some(host) = host.filter(|_| !headers.contains_key(&XFH)) {
            headers.insert(XFH, host);
        }
    }
}

/// [`HOP_BY_HOP`] as header names, so removing them hashes and does not parse.
static HOP_BY_HOP_NAMES: [HeaderName; 10] = [
    HeaderName::from_static("connection"),
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("te"),
    HeaderName::from_static("trailer"),
    HeaderName::from_static("transfer-encoding"),
    HeaderName::from_static("upgrade"),
    HeaderName::from_static("proxy-authorization"),
    HeaderName::from_static("proxy-authenticate"),
    HeaderName::from_static("http2-settings"),
];

/// Removes hop-by-hop headers and every header the `Connection` header names.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(CONNECTION) {
        let named: Vec<String> = headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect();
        for name in &named {
            headers.remove(name.as_str());
        }
    }
    for name in &HOP_BY_HOP_NAMES {
        headers.remove(name);
    }
}

/// A claim as a header value: printable ASCII as it is; other bytes and `%`
/// percent-encoded (UTF-8).
fn encoded(value: &str) -> HeaderValue {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'%';
    if value.bytes().all(plain) {
        // Nothing to encode: one copy, no per-byte formatting.
        return HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if plain(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HeaderPolicy {
        HeaderPolicy::new(
            "x-auth-subject",
            "x-auth-scopes",
            "x-auth-client-id",
            &["x-user-email".into()],
            true,
        )
        .expect("policy")
    }

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    const UNTRUSTED: Origin = Origin {
        peer: IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9)),
        trusted: false,
    };

    #[test]
    fn identity_headers_from_clients_are_removed_in_every_spelling() {
        let mut headers = request(&[
            ("X-Auth-Subject", "admin"),
            ("x_auth_subject", "admin"),
            ("X_AUTH_SCOPES", "delete:everything"),
            ("x-auth-client-id", "trusted-app"),
            ("X-User_Email", "ceo@example.com"),
            // PHP reads `.` as `_`: `HTTP_X_AUTH_SUBJECT`, `HTTP_X_HTTP_METHOD_OVERRIDE`.
            ("X-Auth.Subject", "admin"),
            ("x-auth.scopes", "delete:everything"),
            ("X-User.Email", "ceo@example.com"),
            ("X-HTTP-Method.Override", "DELETE"),
            ("X-Original.URL", "/admin"),
            ("X.Forwarded.For", "10.9.9.9"),
            ("X-SSL-Client-Cert", "forged"),
            ("X-ARR-ClientCert", "forged"),
            ("X-Scheme", "https"),
            ("accept", "application/json"),
        ]);
        policy().request_headers(&mut headers, UNTRUSTED, None, None);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["accept", "x-forwarded-for", "x-forwarded-proto"]);
    }

    #[test]
    fn forwarded_headers_are_replaced_unless_the_peer_is_trusted() {
        let spoofed = [
            ("x-forwarded-for", "10.9.9.9"),
            ("x_forwarded_for", "10.9.9.9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "admin.internal"),
            ("forwarded", "for=10.9.9.9"),
            ("x-real-ip", "10.9.9.9"),
            ("host", "api.example.com"),
        ];
        let mut headers = request(&spoofed);
        policy().request_headers(&mut headers, UNTRUSTED, None, None);
        assert_eq!(headers["x-forwarded-for"], "203.0.113.9");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "api.example.com");
        for gone in ["forwarded", "x-real-ip", "x_forwarded_for", "host"] {
            assert!(!headers.contains_key(gone), "{gone}");
        }

        let mut headers = request(&spoofed);
        let trusted = Origin {
            trusted: true,
            ..UNTRUSTED
        };
        policy().request_headers(&mut headers, trusted, None, None);
        assert_eq!(headers["x-forwarded-for"], "10.9.9.9, 203.0.113.9");
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "admin.internal");
        assert_eq!(headers["forwarded"], "for=10.9.9.9");
    }

    /// Symfony, Laravel and Express's method-override run a POST as the DELETE named in
    /// these headers; IIS, Symfony and Laminas route by `X-Original-URL`.
    #[test]
    fn method_and_url_overrides_are_removed_from_everyone_in_every_spelling() {
        let overrides = [
            ("X-HTTP-Method-Override", "DELETE"),
            ("x_http_method_override", "DELETE"),
            ("X-HTTP-Method", "DELETE"),
            ("X_HTTP_METHOD", "DELETE"),
            ("X-Method-Override", "DELETE"),
            ("x-method_override", "DELETE"),
            ("X-Original-URL", "/admin"),
            ("X_ORIGINAL_URL", "/admin"),
            ("X-Rewrite-URL", "/admin"),
            ("x_rewrite_url", "/admin"),
            ("X-Original-Method", "DELETE"),
            ("X-Original-URI", "/admin"),
            ("accept", "*/*"),
        ];
        for trusted in [false, true] {
            let mut headers = request(&overrides);
            let origin = Origin {
                trusted,
                ..UNTRUSTED
            };
            policy().request_headers(&mut headers, origin, None, None);
            let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
            assert_eq!(
                names,
                ["accept", "x-forwarded-for", "x-forwarded-proto"],
                "trusted: {trusted}"
            );
        }
    }

    #[test]
    fn every_forwarded_and_client_ip_header_is_removed_unless_the_peer_is_trusted() {
        let spoofed = [
            ("X-Forwarded-Prefix", "/admin"),
            ("X-Forwarded-Uri", "/admin"),
            ("X-Forwarded-Path", "/admin"),
            ("X-Forwarded-Scheme", "https"),
            ("X-Forwarded-Ssl", "on"),
            ("X-Forwarded-Server", "internal"),
            ("X-Forwarded-User", "admin"),
            ("X-Forwarded-Email", "ceo@example.com"),
            ("X-Forwarded-Client-Cert", "Hash=1"),
            ("X-Forwarded-Method", "DELETE"),
            ("X-Forwarded", "for=10.0.0.1"),
            ("x_forwarded_port", "443"),
            ("X-Client-IP", "10.0.0.1"),
            ("Client-IP", "10.0.0.1"),
            ("True-Client-IP", "10.0.0.1"),
            ("CF-Connecting-IP", "10.0.0.1"),
            ("cf_connecting_ipv6", "::1"),
            ("CF-Visitor", r#"{"scheme":"https"}"#),
            ("X-Cluster-Client-IP", "10.0.0.1"),
            ("Fastly-Client-IP", "10.0.0.1"),
            ("X-Original-Forwarded-For", "10.0.0.1"),
            ("X-Originating-IP", "10.0.0.1"),
            ("X-Remote-IP", "10.0.0.1"),
            ("X-Remote-Addr", "10.0.0.1"),
            ("X-ProxyUser-IP", "10.0.0.1"),
            ("Proxy-Client-IP", "10.0.0.1"),
            ("WL-Proxy-Client-IP", "10.0.0.1"),
            ("X-Envoy-External-Address", "10.0.0.1"),
            ("X-Original-Host", "admin.internal"),
            ("X-Host", "admin.internal"),
            ("Front-End-Https", "on"),
            ("X-Url-Scheme", "https"),
            ("X_Real_IP", "10.0.0.1"),
        ];
        let mut headers = request(&spoofed);
        headers.append("accept", HeaderValue::from_static("*/*"));
        policy().request_headers(&mut headers, UNTRUSTED, None, None);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["accept", "x-forwarded-for", "x-forwarded-proto"]);

        // A trusted proxy's headers stay, in the spelling it writes; an underscore copy
        // it passed on from its client does not.
        let mut headers = request(&spoofed);
        let trusted = Origin {
            trusted: true,
            ..UNTRUSTED
        };
        policy().request_headers(&mut headers, trusted, None, None);
        for (name, value) in spoofed {
            let kept = headers.get(name).map(|v| v.to_str().expect("ascii"));
            if name.contains('_') {
                assert_eq!(kept, None, "{name}");
            } else {
                assert_eq!(kept, Some(value), "{name}");
            }
        }
    }

    #[test]
    fn the_public_host_is_the_forwarded_host() {
        let public = policy()
            .with_public_host("api.example.com:8443")
            .expect("host");
        for trusted in [false, true] {
            let mut headers = request(&[
                ("host", "evil.example"),
                ("x-forwarded-host", "admin.internal"),
            ]);
            let origin = Origin {
                trusted,
                ..UNTRUSTED
            };
            public.request_headers(&mut headers, origin, None, None);
            let hosts: Vec<&HeaderValue> = headers.get_all("x-forwarded-host").iter().collect();
            assert_eq!(hosts, ["api.example.com:8443"], "trusted: {trusted}");
        }
        for bad in [
            "",
            "user@api.example.com",
            "api.example.com/x",
            "http://api.example.com",
            "a b",
        ] {
            assert!(policy().with_public_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut headers = request(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic eA=="),
            ("http2-settings", "AAMAAABkAAQAAP__"),
            ("http2_settings", "AAMAAABkAAQAAP__"),
            ("transfer_encoding", "chunked"),
            ("Content_Length", "5"),
            ("authorization", "Bearer t"),
        ]);
        policy().request_headers(&mut headers, UNTRUSTED, None, None);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            ["authorization", "x-forwarded-for", "x-forwarded-proto"]
        );
    }

    #[test]
    fn the_hop_by_hop_names_are_the_hop_by_hop_list() {
        let names: Vec<&str> = HOP_BY_HOP_NAMES.iter().map(HeaderName::as_str).collect();
        assert_eq!(names, HOP_BY_HOP);
    }

    #[test]
    fn the_issuer_header_is_the_proxys_own() {
        let issuing = policy().with_issuer_header("x-auth-issuer").expect("name");
        let mut headers = request(&[
            ("X-Auth.Issuer", "https://forged.example/"),
            ("x_auth_issuer", "x"),
        ]);
        issuing.request_headers(&mut headers, UNTRUSTED, None, None);
        assert!(!headers.keys().any(|name| name.as_str().contains("issuer")));
        // Off: not sent, yet the default name is still removed from clients.
        let off = policy().with_issuer_header("").expect("off");
        assert!(off.issuer.is_none());
        let mut headers = request(&[("x-auth-issuer", "https://forged.example/")]);
        off.request_headers(&mut headers, UNTRUSTED, None, None);
        assert!(!headers.contains_key("x-auth-issuer"));
    }

    #[test]
    fn claims_that_are_not_printable_ascii_are_percent_encoded() {
        assert_eq!(encoded("auth0|ivy"), "auth0|ivy");
        assert_eq!(encoded("zoë\r\nx-admin: 1"), "zo%C3%AB%0D%0Ax-admin: 1");
        assert_eq!(encoded("100%"), "100%25");
    }
}
