//! The proxy authenticates as the adapters do, configured from its TOML: several issuers
//! with aliases, DPoP-bound tokens with proofs against a configured public URL, and
//! token sources per route or for all routes. Real issuers (discovery and JWKS) and a
//! real upstream on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use scopegate_core::test_util::TestIssuer;
use scopegate_proxy::{Proxy, ProxyConfig, ProxyConfigError};
use scopegate_tests::dpop_client::DpopClient;
use scopegate_tests::{Idp, Metadata};
use serde_json::json;
use tokio::net::TcpListener;

const AUDIENCE: &str = "https://retail.example/api";
const ALIAS: &str = "https://login.retail.example/";
const PUBLIC: &str = "https://api.retail.example";

/// An upstream counting what reached it and answering 200 with the `Authorization` and
/// `Cookie` headers it received (`-` for none).
async fn upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move |headers: http::HeaderMap| {
        counter.fetch_add(1, Ordering::SeqCst);
        let seen = |name: &str| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().expect("ascii"))
                .collect();
            if values.is_empty() {
                "-".to_owned()
            } else {
                values.join(" | ")
            }
        };
        let answer = format!(
            "authorization: {}\ncookie: {}\nissuer: {}\n",
            seen("authorization"),
            seen("cookie"),
            seen("x-auth-issuer")
        );
        async move { answer }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (addr, hits)
}

/// The proxy for `toml`, serving on 127.0.0.1.
async fn start_proxy(toml: &str) -> SocketAddr {
    let config: ProxyConfig = toml::from_str(toml).expect("config");
    let verifier = config.verifier().expect("verifier").expect("[issuer]");
    let proxy = Proxy::new(&config, verifier).expect("proxy");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(scopegate_proxy::serve(listener, proxy));
    addr
}

/// `GET path` through the proxy with `headers`: status and `WWW-Authenticate`.
async fn get(proxy: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let (status, challenge, _) = get_body(proxy, path, headers).await;
    (status, challenge)
}

/// `GET path` through the proxy with `headers`: status, `WWW-Authenticate` and body.
async fn get_body(
    proxy: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(format!("http://{proxy}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("send");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map_or(String::new(), |v| v.to_str().expect("ascii").to_owned());
    let status = response.status().as_u16();
    (status, challenge, response.text().await.expect("body"))
}

/// A started issuer on loopback and its signer.
async fn issuer() -> (TestIssuer, Idp) {
    let signer = TestIssuer::new().with_audience(AUDIENCE);
    let idp = Idp::start(signer.jwks(), Metadata::Oidc).await;
    (signer.with_issuer(idp.issuer()), idp)
}

#[tokio::test]
async fn issuers_and_their_aliases_come_from_the_toml() {
    let ((a, _idp_a), (b, _idp_b)) = (issuer().await, issuer().await);
    let (upstream, hits) = upstream().await;
    let proxy = start_proxy(&format!(
        r#"
        [issuer]
        url = "{a}"
        aliases = ["{ALIAS}"]
        audience = "{AUDIENCE}"
        [[issuer.additional]]
        url = "{b}"
        [[route]]
        prefix = "/private"
        upstream = "http://{upstream}"
        "#,
        a = a.issuer(),
        b = b.issuer(),
    ))
    .await;
    let bearer = |token: String| format!("Bearer {token}");
    // The upstream learns whose user is calling: `sub` alone may be equal across issuers.
    for (name, token, iss) in [
        ("A", a.token().sign(), a.issuer().to_owned()),
        (
            "A's alias",
            a.token().claim("iss", ALIAS).sign(),
            ALIAS.to_owned(),
        ),
        ("B", b.token().sign(), b.issuer().to_owned()),
    ] {
        let (status, _, seen) = get_body(
            proxy,
            "/private",
            &[
                ("authorization", &bearer(token)),
                ("x_auth_issuer", "https://forged.example/"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{name}");
        assert!(seen.contains(&format!("issuer: {iss}\n")), "{name}: {seen}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    for (name, token) in [
        (
            "B claimed, A's key",
            a.token().claim("iss", b.issuer()).sign(),
        ),
        (
            "unknown issuer",
            a.token().claim("iss", "https://evil.example/").sign(),
        ),
        ("alias of A, B's key", b.token().claim("iss", ALIAS).sign()),
    ] {
        let (status, challenge) =
            get(proxy, "/private", &[("authorization", &bearer(token))]).await;
        assert_eq!(status, 401, "{name}");
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{name}: {challenge}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "no refusal reached the upstream"
    );
}

#[tokio::test]
async fn token_sources_apply_to_all_routes_or_to_one() {
    let (a, _idp) = issuer().await;
    let (upstream, hits) = upstream().await;
    let proxy = start_proxy(&format!(
        r#"
        token_sources = ["cookie:access_token", "authorization"]
        [issuer]
        url = "{a}"
        audience = "{AUDIENCE}"
        [[route]]
        prefix = "/private"
        upstream = "http://{upstream}"
        [[route]]
        prefix = "/machine"
        upstream = "http://{upstream}"
        token_sources = ["header:x-api-token"]
        "#,
        a = a.issuer(),
    ))
    .await;
    let token = a.token().sign();
    let cookie = format!("theme=dark; access_token={token}");
    let bearer = format!("Bearer {token}");
    // The top-level sources: the cookie, or the Authorization header.
    assert_eq!(get(proxy, "/private", &[("cookie", &cookie)]).await.0, 200);
    assert_eq!(
        get(proxy, "/private", &[("authorization", &bearer)])
            .await
            .0,
        200
    );
    assert_eq!(
        get(proxy, "/private", &[("x-api-token", &token)]).await.0,
        401
    );
    // The route's own source replaces them.
    assert_eq!(
        get(proxy, "/machine", &[("x-api-token", &token)]).await.0,
        200
    );
    assert_eq!(get(proxy, "/machine", &[("cookie", &cookie)]).await.0, 401);
    assert_eq!(
        get(proxy, "/machine", &[("authorization", &bearer)])
            .await
            .0,
        401
    );
    // Two cookies of the token's name are ambiguous: 400, not the first one.
    let twice = format!("access_token={token}; access_token={token}");
    assert_eq!(get(proxy, "/private", &[("cookie", &twice)]).await.0, 400);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // An Authorization header the route did not verify never reaches the upstream: the
    // cookie was the token, the header the client's addition.
    let forged = "Bearer forged.jwt.here";
    let (status, _, seen) = get_body(
        proxy,
        "/private",
        &[("cookie", &cookie), ("authorization", forged)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(seen.contains("authorization: -"), "{seen}");
    assert!(
        seen.contains("access_token="),
        "the route's own source passes: {seen}"
    );
    let (status, _, seen) = get_body(
        proxy,
        "/machine",
        &[("x-api-token", &token), ("authorization", forged)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(seen.contains("authorization: -"), "{seen}");
}

#[tokio::test]
async fn without_forward_authorization_no_token_source_reaches_the_upstream() {
    let (a, _idp) = issuer().await;
    let (upstream, _hits) = upstream().await;
    let proxy = start_proxy(&format!(
        r#"
        token_sources = ["cookie:access_token", "authorization"]
        [issuer]
        url = "{a}"
        audience = "{AUDIENCE}"
        [forwarding]
        forward_authorization = false
        [[route]]
        prefix = "/private"
        upstream = "http://{upstream}"
        [[route]]
        prefix = "/bearer"
        upstream = "http://{upstream}"
        token_sources = ["authorization"]
        "#,
        a = a.issuer(),
    ))
    .await;
    let token = a.token().sign();
    let cookie = format!("theme=dark; access_token={token}; lang=en");
    let (status, _, seen) = get_body(proxy, "/private", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert!(seen.contains("cookie: theme=dark; lang=en"), "{seen}");
    let bearer = format!("Bearer {token}");
    let (status, _, seen) = get_body(proxy, "/bearer", &[("authorization", &bearer)]).await;
    assert_eq!(status, 200);
    assert!(seen.contains("authorization: -"), "{seen}");
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_proof_for_the_public_url() {
    let (a, _idp) = issuer().await;
    let (upstream, hits) = upstream().await;
    let proxy = start_proxy(&format!(
        r#"
        [issuer]
        url = "{a}"
        audience = "{AUDIENCE}"
        [dpop]
        mode = "required"
        public_base_url = "{PUBLIC}"
        [[route]]
        prefix = "/private"
        upstream = "http://{upstream}"
        "#,
        a = a.issuer(),
    ))
    .await;
    let client = DpopClient::default();
    let token = a
        .token()
        .claim("cnf", json!({"jkt": client.thumbprint()}))
        .sign();
    let dpop = format!("DPoP {token}");
    let htu = format!("{PUBLIC}/private");
    let proof = client.proof("GET", &htu, &token, |_, _| {});
    let (status, _) = get(
        proxy,
        "/private",
        &[("authorization", &dpop), ("dpop", &proof)],
    )
    .await;
    assert_eq!(status, 200);
    // The same proof again is a replay.
    let (status, challenge) = get(
        proxy,
        "/private",
        &[("authorization", &dpop), ("dpop", &proof)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.contains("DPoP "), "{challenge}");
    // A proof for the address the client reached, not the public URL, does not fit;
    // neither does a Host header naming the proof's authority.
    let local = format!("http://{proxy}/private");
    let proof = client.proof("GET", &local, &token, |_, _| {});
    let (status, challenge) = get(
        proxy,
        "/private",
        &[("authorization", &dpop), ("dpop", &proof)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    // Required: a bearer token (even unbound) is refused.
    let unbound = format!("Bearer {}", a.token().sign());
    assert_eq!(
        get(proxy, "/private", &[("authorization", &unbound)])
            .await
            .0,
        401
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn mistakes_in_the_new_sections_are_named() {
    let base = r#"
        [issuer]
        url = "https://issuer.example/"
        audience = "api"
    "#;
    let build = |extra: &str, route: &str| -> ProxyConfigError {
        let toml = format!(
            "{extra}\n{base}\n[[route]]\nprefix = \"/\"\nupstream = \"http://127.0.0.1:1\"\n{route}"
        );
        let config: ProxyConfig = toml::from_str(&toml).expect("toml");
        match config.verifier() {
            Err(error) => error,
            Ok(verifier) => {
                let verifier = verifier.expect("[issuer]");
                Proxy::new(&config, verifier).expect_err(&toml)
            }
        }
    };
    let text = |e: ProxyConfigError| e.to_string();
    assert!(text(build(r#"token_sources = ["cookie:"]"#, "")).contains("cookie:"));
    assert!(text(build(r#"token_sources = ["query"]"#, "")).contains("`query`"));
    assert!(text(build(r#"token_sources = []"#, "")).contains("token_sources"));
    assert!(text(build("", r#"token_sources = ["header:bad name"]"#)).contains("header:bad name"));
    let dpop = |section: &str| {
        let toml = format!("{base}\n[dpop]\n{section}");
        let config: ProxyConfig = toml::from_str(&toml).expect("toml");
        config
            .verifier()
            .map(|_| ())
            .expect_err(section)
            .to_string()
    };
    assert!(
        dpop("mode = \"required\"\npublic_base_url = \"api.example\"").contains("public_base_url")
    );
    assert!(
        dpop(
            "mode = \"allowed\"\npublic_base_url = \"https://a.example\"\nproof_lifetime_secs = 0"
        )
        .contains("proof_lifetime_secs")
    );
    let missing = format!("{base}\n[dpop]\nmode = \"required\"");
    assert!(
        toml::from_str::<ProxyConfig>(&missing).is_err(),
        "public_base_url is required"
    );
}
