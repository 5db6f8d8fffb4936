//! The default response for an [`AuthError`]: status, challenge, `Retry-After`, JSON body.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};

use crate::error::AuthError;

impl AuthError {
    /// The JSON body of the default response:
    /// `{"error": "...", "error_description": "..."}` with fixed text. Without an RFC 6750
    /// error code, `error` is `unauthorized` (no credentials) or `temporarily_unavailable`
    /// (keys unavailable).
    pub fn json_body(&self) -> String {
        let error = self
            .error_code()
            .unwrap_or(if self.status().as_u16() == 503 {
                "temporarily_unavailable"
            } else {
                "unauthorized"
            });
        // Both parts are fixed ASCII without quotes or backslashes: no escaping needed.
        format!(
            r#"{{"error":"{error}","error_description":"{}"}}"#,
            self.description()
        )
    }

    /// The default response: status, `WWW-Authenticate` (when the status has one),
    /// `Retry-After` (503), `Cache-Control: no-store`, and [`json_body`](Self::json_body).
    ///
    /// ```
    /// use scopegate_core::{AuthError, ErrorKind};
    ///
    /// let response: http::Response<String> = AuthError::new(ErrorKind::Expired).to_response("api");
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(
    ///     response.headers()["www-authenticate"],
    ///     r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#
    /// );
    /// ```
    pub fn to_response<B: From<String>>(&self, realm: &str) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.json_body()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self
            .challenge(realm)
            .and_then(|c| HeaderValue::try_from(c).ok())
        {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(secs) = self.retry_after_secs() {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
