//! Which URLs keys may be fetched from: HTTPS, or plain HTTP on loopback only.

use std::net::IpAddr;

use url::{Host, Url};

use crate::config::ConfigError;

/// Parses `url` and checks it is `https`, or `http` to a loopback host
/// (`127.0.0.0/8`, `::1`, `localhost`) for tests and local issuers.
pub(crate) fn parse_fetch_url(url: &str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(url).map_err(|_| ConfigError::InvalidUrl)?;
    check_fetch_url(&parsed)?;
    Ok(parsed)
}

/// Checks an already parsed URL against the same rule.
pub(crate) fn check_fetch_url(url: &Url) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if url.host().as_ref().is_some_and(is_loopback) => Ok(()),
        "http" | "https" => Err(ConfigError::InsecureUrl),
        _ => Err(ConfigError::InvalidUrl),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://tenant.auth0.com/",
            "https://10.0.0.1/jwks",
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://[::1]:9/",
            "http://localhost/",
            "http://LOCALHOST:1/x",
        ] {
            assert_eq!(parse_fetch_url(ok).map(drop), Ok(()), "{ok}");
        }
        for insecure in [
            "http://tenant.auth0.com/",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "http://127.0.0.1.nip.io/",
            "http://[::2]/",
        ] {
            assert_eq!(
                parse_fetch_url(insecure).map(drop),
                Err(ConfigError::InsecureUrl),
                "{insecure}"
            );
        }
        for invalid in [
            "",
            "tenant.auth0.com",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
        ] {
            assert!(parse_fetch_url(invalid).is_err(), "{invalid}");
        }
    }
}
