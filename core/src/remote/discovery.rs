//! Finding the JWKS of an issuer: OIDC discovery, then RFC 8414, then Auth0's location.

use serde_json::Value;
use url::Url;

use super::transport::{FetchError, Transport};

/// Finds `jwks_uri` for `issuer`.
///
/// Tries `<issuer>/.well-known/openid-configuration`, then RFC 8414's
/// `https://host/.well-known/oauth-authorization-server<path>`. A metadata document must
/// name exactly the configured issuer, and its `jwks_uri` must pass the transport's URL
/// policy (HTTPS, or plain HTTP where allowed).
/// If neither document is served (a 4xx answer), the JWKS is assumed at
/// `<issuer>/.well-known/jwks.json`, where Auth0 serves it.
pub(crate) async fn discover_jwks_uri(
    transport: &Transport,
    issuer: &str,
    issuer_url: &Url,
) -> Result<Url, FetchError> {
    for metadata_url in metadata_urls(issuer_url) {
        let fetched = match transport.get(&metadata_url).await {
            Ok(fetched) => fetched,
            Err(FetchError::Status(status)) if (400..500).contains(&status) => continue,
            Err(error) => return Err(error),
        };
        let metadata = crate::json::parse_object(&fetched.body)
            .ok_or(FetchError::InvalidDocument("metadata is not a JSON object"))?;
        if metadata.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(FetchError::InvalidDocument("metadata names another issuer"));
        }
        let jwks_uri = metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .and_then(|uri| Url::parse(uri).ok())
            .ok_or(FetchError::InvalidDocument(
                "metadata has no valid jwks_uri",
            ))?;
        transport
            .url_policy()
            .check(&jwks_uri)
            .map_err(|_| FetchError::InvalidDocument("metadata jwks_uri is not HTTPS"))?;
        return Ok(jwks_uri);
    }
    with_path(issuer_url, ".well-known/jwks.json")
        .ok_or(FetchError::InvalidDocument("issuer URL cannot hold a path"))
}

/// The OIDC and RFC 8414 metadata locations of an issuer.
fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let mut urls = Vec::with_capacity(2);
    urls.extend(with_path(issuer, ".well-known/openid-configuration"));
    let path = issuer.path().trim_end_matches('/');
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    rfc8414.set_query(None);
    urls.push(rfc8414);
    urls
}

/// `issuer` with `suffix` appended to its path (a `/` in between).
fn with_path(issuer: &Url, suffix: &str) -> Option<Url> {
    let mut url = issuer.clone();
    let path = format!("{}/{suffix}", issuer.path().trim_end_matches('/'));
    url.path_segments_mut().ok()?;
    url.set_path(&path);
    url.set_query(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(String::from).collect()
    }

    #[test]
    fn metadata_locations_for_root_and_path_issuers() {
        let root = Url::parse("https://tenant.auth0.com/").unwrap();
        assert_eq!(
            strings(metadata_urls(&root)),
            [
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server"
            ]
        );
        let path = Url::parse("https://idp.example/realms/retail").unwrap();
        assert_eq!(
            strings(metadata_urls(&path)),
            [
                "https://idp.example/realms/retail/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server/realms/retail"
            ]
        );
        assert_eq!(
            with_path(&root, ".well-known/jwks.json")
                .map(String::from)
                .as_deref(),
            Some("https://tenant.auth0.com/.well-known/jwks.json")
        );
    }
}
