//! One bounded HTTP GET: no redirects, a size cap, and errors that say what happened.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH};
use url::Url;

use super::url_policy::UrlPolicy;

/// Why fetching a document from the issuer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// Connection, TLS or protocol failure.
    Transport,
    /// No complete answer within the timeout.
    Timeout,
    /// A non-2xx status (redirects included: they are never followed).
    Status(u16),
    /// The body exceeded the size cap.
    TooLarge,
    /// A supplied HTTP client followed a redirect; the answer is not used.
    Redirected,
    /// The body is not the expected JSON document.
    InvalidDocument(&'static str),
}

impl FetchError {
    /// The HTTP status, when the issuer answered with one.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Self::Status(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport => f.write_str("connection failed"),
            Self::Timeout => f.write_str("timed out"),
            Self::Status(status) => write!(f, "HTTP status {status}"),
            Self::TooLarge => f.write_str("response too large"),
            Self::Redirected => f.write_str("redirected (redirects are not followed)"),
            Self::InvalidDocument(why) => f.write_str(why),
        }
    }
}

/// A fetched body, and the `Cache-Control: max-age` the issuer gave it.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) status: u16,
}

/// The HTTP client for key fetches: rustls, no redirects, no cookies (or a client the
/// user supplied, held to the same timeout, size cap and no-redirect rule).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    url_policy: UrlPolicy,
}

impl Transport {
    /// A transport over `client`, or over scopegate's own client when `None`.
    pub(crate) fn new(
        client: Option<reqwest::Client>,
        timeout: Duration,
        max_body: usize,
        url_policy: UrlPolicy,
    ) -> Result<Self, reqwest::Error> {
        let client = match client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeout)
                .timeout(timeout)
                .user_agent(concat!("scopegate/", env!("CARGO_PKG_VERSION")))
                .build()?,
        };
        Ok(Self {
            client,
            timeout,
            max_body,
            url_policy,
        })
    }

    /// Which URLs may be fetched.
    pub(crate) fn url_policy(&self) -> UrlPolicy {
        self.url_policy
    }

    /// GETs `url`, reading at most the configured number of bytes.
    pub(crate) async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .timeout(self.timeout)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(classify)?;
        // A supplied client may follow redirects; the answer of another URL is not used.
        if response.url() != url {
            return Err(FetchError::Redirected);
        }
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body as u64) {
            return Err(FetchError::TooLarge);
        }
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body,
            max_age,
            status: status.as_u16(),
        })
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Transport
    }
}

/// `max-age=N` from a `Cache-Control` value (`no-store`/`no-cache` read as zero).
fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        if directive.eq_ignore_ascii_case("no-store") || directive.eq_ignore_ascii_case("no-cache")
        {
            return Some(Duration::ZERO);
        }
        if let Some((name, secs)) = directive.split_once('=')
            && name.trim().eq_ignore_ascii_case("max-age")
        {
            max_age = secs
                .trim()
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_max_age() {
        assert_eq!(
            parse_max_age("public, max-age=15, stale-while-revalidate=15"),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            parse_max_age("Max-Age = \"600\""),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }
}
