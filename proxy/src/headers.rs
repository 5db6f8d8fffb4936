//! What crosses the proxy in headers: hop-by-hop headers dropped, identity headers
//! only from the proxy, `X-Forwarded-*` only from trusted proxies.

use std::fmt::Write;
use std::net::IpAddr;

use http::header::{AUTHORIZATION, CONNECTION, HOST, HeaderMap, HeaderName, HeaderValue, UPGRADE};
use scopegate_core::VerifiedToken;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus the
/// proxy's own credentials.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
];

/// Headers describing the client as earlier proxies saw it.
const FORWARDED: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-real-ip",
];

/// The header rules of one proxy.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    pub(crate) subject: HeaderName,
    pub(crate) scopes: HeaderName,
    pub(crate) client_id: HeaderName,
    /// Identity headers in [`comparable`] form: removed from clients' requests.
    pub(crate) identity: Vec<String>,
    pub(crate) forward_authorization: bool,
}

/// What the upstream may know of the request's origin.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The connecting peer.
    pub peer: IpAddr,
    /// Whether the peer is a trusted proxy.
    pub trusted: bool,
}

/// A header name as upstreams in other languages may read it: lower case, with `_`
/// as `-` (CGI, WSGI, PHP and Rack map both to `HTTP_X_AUTH_SUBJECT`).
pub(crate) fn comparable(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
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
            .map(|n| name(n).map(|h| comparable(h.as_str())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            subject: name(subject)?,
            scopes: name(scopes)?,
            client_id: name(client_id)?,
            identity,
            forward_authorization,
        })
    }

    /// Rewrites a client's request headers for the upstream: hop-by-hop and identity
    /// headers removed, `X-Forwarded-*` set, the token's identity added. `upgrade`: the
    /// protocol of a connection upgrade being forwarded.
    pub fn request_headers(
        &self,
        headers: &mut HeaderMap,
        origin: Origin,
        upgrade: Option<HeaderValue>,
        token: Option<&VerifiedToken>,
    ) {
        remove_hop_by_hop(headers);
        let host = headers.remove(HOST);
        let identity = &self.identity;
        let forwarded = |name: &str| FORWARDED.contains(&name);
        let names: Vec<HeaderName> = headers.keys().cloned().collect();
        for name in names {
            let comparable = comparable(name.as_str());
            if identity.contains(&comparable) || (!origin.trusted && forwarded(&comparable)) {
                headers.remove(&name);
            }
        }
        self.set_forwarded(headers, origin, host);
        if !self.forward_authorization {
            headers.remove(AUTHORIZATION);
        }
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
        if let Some(host) = host.filter(|_| !headers.contains_key(&XFH)) {
            headers.insert(XFH, host);
        }
    }
}

/// Removes hop-by-hop headers and every header the `Connection` header names.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    for name in named.iter().map(String::as_str).chain(HOP_BY_HOP) {
        headers.remove(name);
    }
}

/// A claim as a header value: printable ASCII as it is; other bytes and `%`
/// percent-encoded (UTF-8).
fn encoded(value: &str) -> HeaderValue {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
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
    fn claims_that_are_not_printable_ascii_are_percent_encoded() {
        assert_eq!(encoded("auth0|ivy"), "auth0|ivy");
        assert_eq!(encoded("zoë\r\nx-admin: 1"), "zo%C3%AB%0D%0Ax-admin: 1");
        assert_eq!(encoded("100%"), "100%25");
    }
}
