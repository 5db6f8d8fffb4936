//! The proxy's forward-auth endpoint authenticates the original request the front proxy
//! describes, not the subrequest: DPoP proofs must fit the original method and URI (under
//! the configured public URL), and the original route's token sources apply. A real
//! issuer (discovery and JWKS) on 127.0.0.1; the test plays the front proxy.

use std::net::SocketAddr;

use scopegate_core::test_util::TestIssuer;
use scopegate_proxy::{Proxy, ProxyConfig};
use scopegate_tests::dpop_client::DpopClient;
use scopegate_tests::{Idp, Metadata};
use serde_json::json;
use tokio::net::TcpListener;

const AUDIENCE: &str = "https://retail.example/api";
const PUBLIC: &str = "https://api.retail.example";
const ENDPOINT: &str = "/_scopegate/auth";

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

/// Asks the endpoint about `method target` with the client's `headers`, as a front
/// proxy on 127.0.0.1 would: status, `WWW-Authenticate`, `x-auth-subject`.
async fn ask(
    proxy: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut request = reqwest::Client::new()
        .get(format!("http://{proxy}{ENDPOINT}"))
        .header("x-original-method", method)
        .header("x-original-uri", target);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("send");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let (challenge, subject) = (header("www-authenticate"), header("x-auth-subject"));
    (
        response.status().as_u16(),
        challenge.unwrap_or_default(),
        subject,
    )
}

#[tokio::test]
async fn dpop_proofs_and_token_sources_are_those_of_the_original_request() {
    let signer = TestIssuer::new().with_audience(AUDIENCE);
    let idp = Idp::start(signer.jwks(), Metadata::Oidc).await;
    let signer = signer.with_issuer(idp.issuer());
    let proxy = start_proxy(&format!(
        r#"
        [issuer]
        url = "{issuer}"
        audience = "{AUDIENCE}"
        [dpop]
        mode = "allowed"
        public_base_url = "{PUBLIC}"
        [forward_auth]
        front_proxies = ["127.0.0.1"]
        [[route]]
        prefix = "/private"
        upstream = "http://127.0.0.1:9"
        [[route]]
        prefix = "/machine"
        upstream = "http://127.0.0.1:9"
        token_sources = ["header:x-api-token"]
        "#,
        issuer = signer.issuer(),
    ))
    .await;

    let client = DpopClient::default();
    let token = signer
        .token()
        .claim("cnf", json!({"jkt": client.thumbprint()}))
        .sign();
    let dpop = format!("DPoP {token}");
    let target = "/private/orders?page=2";
    let fits = client.proof("DELETE", &format!("{PUBLIC}{target}"), &token, |_, _| {});
    let (status, _, subject) = ask(
        proxy,
        "DELETE",
        target,
        &[("authorization", &dpop), ("dpop", &fits)],
    )
    .await;
    assert_eq!((status, subject.as_deref()), (200, Some("auth0|test-user")));

    // Proofs for the subrequest itself, for another method, or replayed do not fit.
    let for_endpoint = client.proof("GET", &format!("{PUBLIC}{ENDPOINT}"), &token, |_, _| {});
    let for_get = client.proof("GET", &format!("{PUBLIC}{target}"), &token, |_, _| {});
    for proof in [&for_endpoint, &for_get, &fits] {
        let (status, challenge, subject) = ask(
            proxy,
            "DELETE",
            target,
            &[("authorization", &dpop), ("dpop", proof)],
        )
        .await;
        assert_eq!((status, subject), (401, None));
        assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    }

    // The original path's route decides where the token is read.
    let bearer = signer.token().sign();
    let (status, _, subject) =
        ask(proxy, "GET", "/machine/jobs", &[("x-api-token", &bearer)]).await;
    assert_eq!((status, subject.as_deref()), (200, Some("auth0|test-user")));
    let authorization = format!("Bearer {bearer}");
    let (status, _, _) = ask(
        proxy,
        "GET",
        "/machine/jobs",
        &[("authorization", &authorization)],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = ask(
        proxy,
        "GET",
        "/private",
        &[("authorization", &authorization)],
    )
    .await;
    assert_eq!(status, 200);
}
