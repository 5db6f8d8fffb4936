//! Which connection upgrades are forwarded: WebSocket only (RFC 6455 §4.1).
//!
//! After a 101 the proxy copies bytes and checks nothing more, so an upgrade to HTTP/2
//! (`h2c`, which hypercorn and Go's `h2c` handler switch on) would let the client send
//! any request to the upstream past every route. A request carrying `Upgrade` is
//! forwarded only as a WebSocket opening handshake: `GET`, HTTP/1.1, `Connection:
//! upgrade`, `Upgrade: websocket` (one protocol); anything else carrying `Upgrade` is
//! refused. `HTTP2-Settings` is hop-by-hop and never forwarded.

use http::header::{CONNECTION, HeaderMap, HeaderValue, UPGRADE};
use http::{Method, Request, Response, Version};

/// The protocol sent upstream in `Upgrade`.
pub(crate) const WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");

/// An `Upgrade` request that is not a WebSocket opening handshake (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only WebSocket upgrades are forwarded")]
pub(crate) struct UpgradeRefused;

/// Whether `request` is a WebSocket upgrade to forward (`Ok(true)`), no upgrade at all
/// (`Ok(false)`), or an upgrade that is refused.
pub(crate) fn websocket_requested<B>(request: &Request<B>) -> Result<bool, UpgradeRefused> {
    let headers = request.headers();
    let asks_upgrade = connection_has_upgrade(headers);
    if !headers.contains_key(UPGRADE) {
        // `Connection: upgrade` alone upgrades nothing; the header is dropped.
        return Ok(false);
    }
    let websocket = asks_upgrade
        && request.method() == Method::GET
        && request.version() == Version::HTTP_11
        && is_only_websocket(headers);
    if websocket {
        Ok(true)
    } else {
        Err(UpgradeRefused)
    }
}

/// Whether an upstream's 101 switched to WebSocket (anything else is not passed on).
pub(crate) fn websocket_accepted<B>(response: &Response<B>) -> bool {
    is_only_websocket(response.headers())
}

/// Whether `Connection` lists `upgrade`.
fn connection_has_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// Whether `Upgrade` is present once and names exactly `websocket` (any case).
fn is_only_websocket(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(UPGRADE).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value
            .as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"websocket"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, version: Version, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder()
            .method(method)
            .version(version)
            .uri("/socket");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("request")
    }

    const WEBSOCKET_HANDSHAKE: [(&str, &str); 2] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
    ];

    #[test]
    fn websocket_handshakes_are_forwarded() {
        let handshake = request(Method::GET, Version::HTTP_11, &WEBSOCKET_HANDSHAKE);
        assert_eq!(websocket_requested(&handshake), Ok(true));
        let plain = request(Method::GET, Version::HTTP_11, &[("connection", "upgrade")]);
        assert_eq!(websocket_requested(&plain), Ok(false));
    }

    #[test]
    fn every_other_upgrade_is_refused() {
        let h2c = [
            ("connection", "Upgrade, HTTP2-Settings"),
            ("upgrade", "h2c"),
            ("http2-settings", "AAMAAABkAAQAAP__"),
        ];
        type Case<'a> = (Method, Version, Vec<(&'a str, &'a str)>);
        let cases: Vec<Case<'_>> = vec![
            (Method::GET, Version::HTTP_11, h2c.to_vec()),
            (Method::GET, Version::HTTP_11, vec![("upgrade", "h2c")]),
            (
                Method::GET,
                Version::HTTP_11,
                vec![("connection", "upgrade"), ("upgrade", "websocket, h2c")],
            ),
            (
                Method::GET,
                Version::HTTP_11,
                vec![("connection", "upgrade"), ("upgrade", "h2c, websocket")],
            ),
            (
                Method::GET,
                Version::HTTP_11,
                vec![("connection", "upgrade"), ("upgrade", "TLS/1.2")],
            ),
            (
                Method::GET,
                Version::HTTP_11,
                vec![("connection", "upgrade"), ("upgrade", "websocket/13")],
            ),
            (
                Method::GET,
                Version::HTTP_11,
                vec![
                    ("connection", "upgrade"),
                    ("upgrade", "websocket"),
                    ("upgrade", "h2c"),
                ],
            ),
            // WebSocket, but not as RFC 6455 opens it.
            (
                Method::GET,
                Version::HTTP_11,
                vec![("upgrade", "websocket")],
            ),
            (Method::POST, Version::HTTP_11, WEBSOCKET_HANDSHAKE.to_vec()),
            (Method::GET, Version::HTTP_10, WEBSOCKET_HANDSHAKE.to_vec()),
            (Method::GET, Version::HTTP_2, WEBSOCKET_HANDSHAKE.to_vec()),
        ];
        for (method, version, headers) in cases {
            let refused = request(method.clone(), version, &headers);
            assert_eq!(
                websocket_requested(&refused),
                Err(UpgradeRefused),
                "{method} {version:?} {headers:?}"
            );
        }
    }

    #[test]
    fn only_a_websocket_101_is_passed_on() {
        let answer = |upgrade: &str| {
            Response::builder()
                .status(101)
                .header("upgrade", upgrade)
                .body(())
                .expect("response")
        };
        assert!(websocket_accepted(&answer("websocket")));
        assert!(!websocket_accepted(&answer("h2c")));
        assert!(!websocket_accepted(&Response::new(())));
    }
}
