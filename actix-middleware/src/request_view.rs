//! An actix-web request as core reads it.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderValue;
use scopegate_core::RequestView;

/// A [`ServiceRequest`] seen through core's [`RequestView`].
pub(crate) struct ActixRequest<'r>(pub(crate) &'r ServiceRequest);

type ActixHeaderValues<'a> =
    std::iter::Map<std::slice::Iter<'a, HeaderValue>, fn(&HeaderValue) -> &[u8]>;

impl RequestView for ActixRequest<'_> {
    type HeaderValues<'a>
        = ActixHeaderValues<'a>
    where
        Self: 'a;

    fn method_str(&self) -> &str {
        self.0.method().as_str()
    }

    fn path_and_query(&self) -> &str {
        self.0
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str())
    }

    fn scheme_and_authority(&self) -> Option<(&str, &str)> {
        let uri = self.0.uri();
        uri.scheme_str().zip(uri.authority().map(|a| a.as_str()))
    }

    fn header_values(&self, name: &str) -> Self::HeaderValues<'_> {
        self.0
            .headers()
            .get_all(name)
            .map(HeaderValue::as_bytes as fn(&HeaderValue) -> &[u8])
    }

    fn query(&self) -> Option<&str> {
        Some(self.0.query_string()).filter(|query| !query.is_empty())
    }
}
