//! What core reads of an HTTP request, whichever front end received it.

use http::HeaderValue;

/// A read-only view of one HTTP request: method, target and headers. Each front end
/// (the tower layer, the actix-web middleware, the proxy) gives core its requests through
/// this trait, and [`Authenticator::authenticate`](crate::Authenticator::authenticate)
/// does the rest; implemented here for [`http::Request`] and [`http::request::Parts`].
///
/// ```
/// use scopegate_core::RequestView;
///
/// let request = http::Request::post("/orders?id=7")
///     .header("authorization", "Bearer abc")
///     .body(())?;
/// assert_eq!(request.method_str(), "POST");
/// assert_eq!(request.path_and_query(), "/orders?id=7");
/// assert_eq!(request.query(), Some("id=7"));
/// assert_eq!(request.header_values("authorization").collect::<Vec<_>>(), [b"Bearer abc"]);
/// # Ok::<(), http::Error>(())
/// ```
pub trait RequestView {
    /// The values of one header, in the order received.
    type HeaderValues<'a>: Iterator<Item = &'a [u8]>
    where
        Self: 'a;

    /// The request method (`GET`).
    fn method_str(&self) -> &str;

    /// Path and query as received (`/orders?id=7`); `/` when the target has no path.
    fn path_and_query(&self) -> &str;

    /// Scheme and authority when the request carried them in its target (HTTP/2
    /// `:scheme` and `:authority`, or an absolute-form HTTP/1.1 target); `None` for an
    /// origin-form target, whose authority is in `Host`.
    fn scheme_and_authority(&self) -> Option<(&str, &str)>;

    /// Every value of the header `name` (lower-case).
    fn header_values(&self, name: &str) -> Self::HeaderValues<'_>;

    /// The query string, without `?`.
    fn query(&self) -> Option<&str> {
        self.path_and_query()
            .split_once('?')
            .map(|(_, query)| query)
    }
}

/// The values of one header of an [`http::HeaderMap`] as bytes.
pub type HttpHeaderValues<'a> =
    std::iter::Map<http::header::ValueIter<'a, HeaderValue>, fn(&HeaderValue) -> &[u8]>;

fn http_header_values<'a>(headers: &'a http::HeaderMap, name: &str) -> HttpHeaderValues<'a> {
    headers
        .get_all(name)
        .iter()
        .map(HeaderValue::as_bytes as fn(&HeaderValue) -> &[u8])
}

fn uri_scheme_and_authority(uri: &http::Uri) -> Option<(&str, &str)> {
    uri.scheme_str().zip(uri.authority().map(|a| a.as_str()))
}

fn uri_path_and_query(uri: &http::Uri) -> &str {
    uri.path_and_query().map_or("/", |target| target.as_str())
}

impl<B> RequestView for http::Request<B> {
    type HeaderValues<'a>
        = HttpHeaderValues<'a>
    where
        Self: 'a;

    fn method_str(&self) -> &str {
        self.method().as_str()
    }

    fn path_and_query(&self) -> &str {
        uri_path_and_query(self.uri())
    }

    fn scheme_and_authority(&self) -> Option<(&str, &str)> {
        uri_scheme_and_authority(self.uri())
    }

    fn header_values(&self, name: &str) -> Self::HeaderValues<'_> {
        http_header_values(self.headers(), name)
    }
}

impl RequestView for http::request::Parts {
    type HeaderValues<'a>
        = HttpHeaderValues<'a>
    where
        Self: 'a;

    fn method_str(&self) -> &str {
        self.method.as_str()
    }

    fn path_and_query(&self) -> &str {
        uri_path_and_query(&self.uri)
    }

    fn scheme_and_authority(&self) -> Option<(&str, &str)> {
        uri_scheme_and_authority(&self.uri)
    }

    fn header_values(&self, name: &str) -> Self::HeaderValues<'_> {
        http_header_values(&self.headers, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http2_request_has_scheme_and_authority_an_origin_form_one_has_not() {
        let h2 = http::Request::get("https://api.example/orders?x=1")
            .body(())
            .expect("request");
        assert_eq!(h2.scheme_and_authority(), Some(("https", "api.example")));
        assert_eq!(h2.path_and_query(), "/orders?x=1");
        let (parts, ()) = http::Request::get("/orders")
            .body(())
            .expect("request")
            .into_parts();
        assert_eq!(parts.scheme_and_authority(), None);
        assert_eq!(parts.query(), None);
        assert_eq!(parts.method_str(), "GET");
    }

    #[test]
    fn every_value_of_a_header_is_seen_in_order() {
        let request = http::Request::get("/")
            .header("dpop", "one")
            .header("dpop", "two")
            .body(())
            .expect("request");
        let values: Vec<&[u8]> = request.header_values("dpop").collect();
        assert_eq!(values, [b"one".as_slice(), b"two"]);
        assert_eq!(request.header_values("authorization").count(), 0);
    }
}
