//! Checks on the request as a whole, before its path and route: the method, the
//! framing headers and the host, each of which an upstream could read otherwise than
//! the proxy.
//!
//! hyper already refuses, with 400 and before the proxy sees the request: differing
//! `Content-Length` values, a `Content-Length` that is not a plain decimal number, a
//! `Transfer-Encoding` whose last coding is not `chunked`, `Transfer-Encoding` in
//! HTTP/1.0, obsolete line folding and malformed request lines or header names. With
//! both `Transfer-Encoding: chunked` and `Content-Length` it reads the body as chunked,
//! drops `Content-Length` and closes the connection after the answer (RFC 9112 §6.3).
//! The proxy re-frames every body it forwards, so no client framing header reaches the
//! upstream.

use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, Request, StatusCode};

/// Why a request is refused before its path is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MessageRefusal {
    /// `CONNECT` (a tunnel to an authority, not a request for a path), `TRACE` or IIS's
    /// `TRACK` (echo the request, credentials included): 405.
    #[error("CONNECT, TRACE and TRACK are not forwarded")]
    Method,
    /// A method with lower-case letters (`delete`): methods are case-sensitive, but
    /// some upstreams upper-case them.
    #[error("the method is not in upper case")]
    MethodCase,
    /// A transfer coding other than one `chunked` (`gzip, chunked`), or
    /// `Transfer-Encoding` with `Content-Length`.
    #[error("a transfer coding other than chunked")]
    TransferCoding,
    /// Two `Host` headers, or a `Host` other than the request target's authority.
    #[error("the host is ambiguous")]
    Host,
}

impl MessageRefusal {
    /// The status of the answer.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::Method => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error` code of the answer.
    pub(crate) fn error_code(self) -> &'static str {
        match self {
            Self::Method => "method_not_allowed",
            _ => "invalid_request",
        }
    }

    /// The fixed `error_description` of the answer.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::Method => "The request method is not forwarded",
            Self::MethodCase => "The request method is not accepted",
            Self::TransferCoding => "The request framing is not accepted",
            Self::Host => "The request host is not accepted",
        }
    }
}

/// Checks the method, framing and host of `request`.
pub(crate) fn check_message<B>(request: &Request<B>) -> Result<(), MessageRefusal> {
    let method = request.method();
    if *method == Method::CONNECT || *method == Method::TRACE || method.as_str() == "TRACK" {
        return Err(MessageRefusal::Method);
    }
    if method.as_str().bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(MessageRefusal::MethodCase);
    }
    let headers = request.headers();
    let mut codings = headers.get_all(TRANSFER_ENCODING).iter().peekable();
    if codings.peek().is_some() {
        let only_chunked = codings
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|coding| !coding.is_empty())
            .try_fold(0, |count, coding| {
                coding.eq_ignore_ascii_case(b"chunked").then_some(count + 1)
            })
            == Some(1);
        if !only_chunked || headers.contains_key(CONTENT_LENGTH) {
            return Err(MessageRefusal::TransferCoding);
        }
    }
    let mut hosts = headers.get_all(HOST).iter();
    let (host, second) = (hosts.next(), hosts.next());
    if second.is_some() {
        return Err(MessageRefusal::Host);
    }
    let agrees = match (host, request.uri().authority()) {
        (Some(host), Some(authority)) => host
            .as_bytes()
            .eq_ignore_ascii_case(authority.as_str().as_bytes()),
        _ => true,
    };
    if agrees {
        Ok(())
    } else {
        Err(MessageRefusal::Host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("request")
    }

    #[test]
    fn connect_trace_and_track_are_not_forwarded() {
        for method in ["CONNECT", "TRACE", "TRACK"] {
            let refused = check_message(&request(method, "/public/x", &[]));
            assert_eq!(refused, Err(MessageRefusal::Method), "{method}");
            assert_eq!(MessageRefusal::Method.status(), 405);
        }
        for method in ["GET", "POST", "PATCH", "PROPFIND", "M-SEARCH"] {
            assert_eq!(
                check_message(&request(method, "/x", &[])),
                Ok(()),
                "{method}"
            );
        }
    }

    #[test]
    fn methods_with_lower_case_letters_are_refused() {
        for method in ["get", "Delete", "pOST", "connect"] {
            assert_eq!(
                check_message(&request(method, "/x", &[])),
                Err(MessageRefusal::MethodCase),
                "{method}"
            );
        }
    }

    #[test]
    fn only_a_single_chunked_coding_passes() {
        for te in ["chunked", "Chunked", " chunked "] {
            let plain = request("POST", "/x", &[("transfer-encoding", te)]);
            assert_eq!(check_message(&plain), Ok(()), "{te}");
        }
        let refused = [
            vec![("transfer-encoding", "gzip, chunked")],
            vec![("transfer-encoding", "chunked, chunked")],
            vec![("transfer-encoding", "identity")],
            vec![("transfer-encoding", "")],
            vec![
                ("transfer-encoding", "chunked"),
                ("transfer-encoding", "chunked"),
            ],
            vec![("transfer-encoding", "chunked"), ("content-length", "5")],
        ];
        for headers in refused {
            assert_eq!(
                check_message(&request("POST", "/x", &headers)),
                Err(MessageRefusal::TransferCoding),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn the_host_must_be_one_and_agree_with_an_absolute_target() {
        let ok = [
            request("GET", "/x", &[("host", "api.test")]),
            request("GET", "http://api.test/x", &[("host", "API.test")]),
            request("GET", "http://api.test/x", &[]),
        ];
        for request in ok {
            assert_eq!(check_message(&request), Ok(()));
        }
        let refused = [
            request("GET", "/x", &[("host", "api.test"), ("host", "admin.test")]),
            request("GET", "http://admin.test/x", &[("host", "api.test")]),
            request("GET", "http://api.test:8080/x", &[("host", "api.test")]),
        ];
        for request in refused {
            assert_eq!(check_message(&request), Err(MessageRefusal::Host));
        }
    }
}
