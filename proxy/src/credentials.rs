//! What of the caller's credentials reaches the upstream: only the `Authorization`
//! header, only on routes that read the token from it alone, and nothing when
//! `forward_authorization` is off.
//!
//! A route reading its token from a cookie or a header of its own never verified an
//! `Authorization` header the client may have added beside it; an upstream that decodes
//! the forwarded JWT ("the proxy checked it") would act on the client's claims.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, HeaderValue};
use scopegate_core::TokenSource;

/// Removes from `headers` the credentials the upstream may not see, for a route reading
/// its token from `sources` (`None`: the `Authorization` header).
pub(crate) fn withhold_credentials(
    headers: &mut HeaderMap,
    sources: Option<&[TokenSource]>,
    forward: bool,
) {
    let authorization_only = sources.is_none_or(|sources| sources == [TokenSource::Authorization]);
    if forward && authorization_only {
        return;
    }
    headers.remove(AUTHORIZATION);
    headers.remove("dpop");
    if forward {
        return;
    }
    for source in sources.unwrap_or_default() {
        match source {
            TokenSource::Header(name) => {
                headers.remove(name.as_str());
            }
            TokenSource::Cookie(name) => remove_cookie(headers, name),
            _ => {}
        }
    }
}

/// Joins every `Cookie` header into one, `; `-separated (RFC 9113 §8.2.3: HTTP/2 clients
/// may send each cookie apart; HTTP/1.1 upstreams expect one header).
pub(crate) fn join_cookies(headers: &mut HeaderMap) {
    if headers.get_all(COOKIE).iter().nth(1).is_none() {
        return;
    }
    let joined: Vec<&[u8]> = headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(value) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(COOKIE, value);
    }
}

/// Removes the cookie `name` from every `Cookie` header, keeping the others.
fn remove_cookie(headers: &mut HeaderMap, name: &str) {
    let kept: Vec<Vec<u8>> = headers
        .get_all(COOKIE)
        .iter()
        .map(|value| {
            let pairs: Vec<&[u8]> = value
                .as_bytes()
                .split(|&b| b == b';')
                .filter(|pair| {
                    let cookie = pair.split(|&b| b == b'=').next().unwrap_or_default();
                    cookie.trim_ascii() != name.as_bytes()
                })
                .map(<[u8]>::trim_ascii)
                .filter(|pair| !pair.is_empty())
                .collect();
            pairs.join(&b"; "[..])
        })
        .filter(|value| !value.is_empty())
        .collect();
    headers.remove(COOKIE);
    for value in kept {
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.append(COOKIE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect()
    }

    const SENT: [(&str, &str); 5] = [
        ("authorization", "Bearer forged.jwt.here"),
        ("dpop", "proof"),
        ("x-api-token", "a.b.c"),
        ("cookie", "theme=dark; access_token=a.b.c"),
        ("cookie", "lang=en"),
    ];

    #[test]
    fn authorization_passes_only_where_it_alone_was_read() {
        let mut all = headers(&SENT);
        withhold_credentials(&mut all, None, true);
        assert_eq!(values(&all, "authorization"), ["Bearer forged.jwt.here"]);
        let only = [TokenSource::Authorization];
        let mut all = headers(&SENT);
        withhold_credentials(&mut all, Some(&only), true);
        assert_eq!(values(&all, "authorization"), ["Bearer forged.jwt.here"]);

        for sources in [
            vec![TokenSource::cookie("access_token")],
            vec![
                TokenSource::cookie("access_token"),
                TokenSource::Authorization,
            ],
            vec![TokenSource::header("x-api-token")],
        ] {
            let mut sent = headers(&SENT);
            withhold_credentials(&mut sent, Some(&sources), true);
            assert!(values(&sent, "authorization").is_empty(), "{sources:?}");
            assert!(values(&sent, "dpop").is_empty(), "{sources:?}");
            // The route's own source still reaches the upstream when forwarding is on.
            assert_eq!(values(&sent, "x-api-token"), ["a.b.c"]);
            assert_eq!(values(&sent, "cookie").len(), 2);
        }
    }

    #[test]
    fn without_forwarding_every_token_source_is_withheld_and_other_cookies_kept() {
        let sources = [
            TokenSource::cookie("access_token"),
            TokenSource::header("X-Api-Token"),
            TokenSource::Authorization,
        ];
        let mut sent = headers(&SENT);
        withhold_credentials(&mut sent, Some(&sources), false);
        for gone in ["authorization", "dpop", "x-api-token"] {
            assert!(values(&sent, gone).is_empty(), "{gone}");
        }
        assert_eq!(values(&sent, "cookie"), ["theme=dark", "lang=en"]);

        let mut sent = headers(&[("cookie", "access_token=a.b.c")]);
        withhold_credentials(&mut sent, Some(&sources), false);
        assert!(values(&sent, "cookie").is_empty());
        let mut sent = headers(&SENT);
        withhold_credentials(&mut sent, None, false);
        assert!(values(&sent, "authorization").is_empty());
        assert_eq!(values(&sent, "x-api-token"), ["a.b.c"]);
    }

    #[test]
    fn cookies_sent_apart_reach_the_upstream_as_one_header() {
        let mut sent = headers(&[("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")]);
        join_cookies(&mut sent);
        assert_eq!(values(&sent, "cookie"), ["a=1; b=2; c=3"]);
        let mut one = headers(&[("cookie", "a=1; b=2")]);
        join_cookies(&mut one);
        assert_eq!(values(&one, "cookie"), ["a=1; b=2"]);
    }
}
