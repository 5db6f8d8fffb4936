//! Which URLs keys may be fetched from: HTTPS, or plain HTTP on loopback only, unless
//! plain HTTP to private hosts is explicitly allowed.

use std::net::IpAddr;

use url::{Host, Url};

use crate::config::ConfigError;

/// Where plain HTTP is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum UrlPolicy {
    /// Loopback hosts only (`127.0.0.0/8`, `::1`, `localhost`), for tests and local issuers.
    #[default]
    LoopbackHttp,
    /// Also private hosts: private and unique-local IP addresses, single-label names
    /// (`keycloak`, as docker-compose names services) and `.internal` / `.local` names.
    PrivateHttp,
}

impl UrlPolicy {
    /// Parses `url` and checks it: `https`, or `http` to a host this policy allows.
    pub(crate) fn parse(self, url: &str) -> Result<Url, ConfigError> {
        let parsed = Url::parse(url).map_err(|_| ConfigError::InvalidUrl)?;
        self.check(&parsed)?;
        Ok(parsed)
    }

    /// Checks an already parsed URL against the same rule.
    pub(crate) fn check(self, url: &Url) -> Result<(), ConfigError> {
        let host = url.host();
        let plain_http_allowed = host.as_ref().is_some_and(|host| match self {
            Self::LoopbackHttp => is_loopback(host),
            Self::PrivateHttp => is_loopback(host) || is_private(host),
        });
        match url.scheme() {
            "https" if host.is_some() => Ok(()),
            "http" if plain_http_allowed => Ok(()),
            "http" | "https" => Err(ConfigError::InsecureUrl),
            _ => Err(ConfigError::InvalidUrl),
        }
    }

    /// Whether fetching `url` sends keys over plain HTTP beyond this machine.
    pub(crate) fn is_plain_http_off_machine(url: &Url) -> bool {
        url.scheme() == "http" && !url.host().as_ref().is_some_and(is_loopback)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

fn is_private(host: &Host<&str>) -> bool {
    match host {
        // 10/8, 172.16/12, 192.168/16; 100.64/10 (shared address space); link-local.
        Host::Ipv4(ip) => {
            ip.is_private()
                || ip.is_link_local()
                || (ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1]))
        }
        // fc00::/7 (unique local), fe80::/10 (link-local).
        Host::Ipv6(ip) => {
            let first = ip.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !name.is_empty()
                && (!name.contains('.') || name.ends_with(".internal") || name.ends_with(".local"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_fetch_url(url: &str) -> Result<Url, ConfigError> {
        UrlPolicy::LoopbackHttp.parse(url)
    }

    #[test]
    fn private_http_is_allowed_only_when_asked_for() {
        let private = [
            "http://keycloak:8080/realms/dev",
            "http://10.1.2.3/",
            "http://172.20.0.5:4000/",
            "http://192.168.1.10/",
            "http://100.64.0.1/",
            "http://169.254.10.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://idp.internal/",
            "http://keycloak.dev.svc.cluster.local/",
            "http://127.0.0.1/",
        ];
        for url in private {
            assert_eq!(UrlPolicy::PrivateHttp.parse(url).map(drop), Ok(()), "{url}");
        }
        for url in &private[..10] {
            assert_eq!(
                parse_fetch_url(url).map(drop),
                Err(ConfigError::InsecureUrl),
                "{url}"
            );
        }
        for public in [
            "http://tenant.auth0.com/",
            "http://8.8.8.8/",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://[2001:db8::1]/",
            "http://internal.evil.example/",
            "http://local.example/",
        ] {
            assert_eq!(
                UrlPolicy::PrivateHttp.parse(public).map(drop),
                Err(ConfigError::InsecureUrl),
                "{public}"
            );
        }
    }

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
