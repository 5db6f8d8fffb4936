//! The proxy end to end: a real upstream on 127.0.0.1 that echoes what it receives, the
//! proxy in front of it, tokens from the dev issuer (discovery and JWKS on loopback).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
use scopegate_proxy::{Proxy, ProxyConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RETAIL: &str = "https://retail.example/api";

/// An upstream that answers every request with what it received (method, path and
/// query, headers) as JSON, echoes POST bodies, and echoes bytes after an upgrade.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

async fn upstream() -> Upstream {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move |mut request: Request| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let upgrade = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
            if let Some(upgrade) = upgrade.filter(|_| request.headers().contains_key("upgrade")) {
                tokio::spawn(async move {
                    let Ok(upgraded) = upgrade.await else { return };
                    let mut io = hyper_util::rt::TokioIo::new(upgraded);
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = io.read(&mut buf).await {
                        if io.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                return Response::builder()
                    .status(101)
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .body(Body::empty())
                    .expect("101");
            }
            if request.method() == "POST" {
                return Response::new(request.into_body());
            }
            let headers: serde_json::Map<String, Value> = request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), json!(value.to_str().unwrap_or("?"))))
                .collect();
            let seen = json!({"method": request.method().as_str(), "target": request.uri().to_string(), "headers": headers});
            Response::new(Body::from(seen.to_string()))
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Upstream { addr, hits }
}

/// The routes of the tests, in front of `upstream`.
fn config(issuer: &DevIssuer, upstream: SocketAddr, extra: &str) -> ProxyConfig {
    let toml = format!(
        r#"
        [issuer]
        url = "{issuer}"
        audience = "{RETAIL}"
        {extra}
        [[route]]
        prefix = "/"
        methods = ["GET"]
        upstream = "http://{upstream}"
        public = true
        [[route]]
        prefix = "/orders"
        methods = ["GET"]
        upstream = "http://{upstream}"
        require.all = ["read:orders"]
        [[route]]
        prefix = "/admin"
        upstream = "http://{upstream}"
        require.all = ["delete:analytics"]
        [[route]]
        prefix = "/private"
        upstream = "http://{upstream}"
        [[route]]
        prefix = "/echo"
        methods = ["POST"]
        upstream = "http://{upstream}"
        "#,
        issuer = issuer.issuer()
    );
    toml::from_str(&toml).expect("config")
}

struct Setup {
    issuer: DevIssuer,
    upstream: Upstream,
    proxy: SocketAddr,
}

/// The proxy for `config`, serving on 127.0.0.1 in the background.
async fn start_proxy(config: &ProxyConfig) -> SocketAddr {
    let verifier = config.verifier().expect("verifier").expect("[issuer]");
    let proxy = Proxy::new(config, verifier).expect("proxy");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(scopegate_proxy::serve(listener, proxy));
    addr
}

async fn setup(extra: &str) -> Setup {
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    let upstream = upstream().await;
    let addr = start_proxy(&config(&issuer, upstream.addr, extra)).await;
    Setup {
        issuer,
        upstream,
        proxy: addr,
    }
}

impl Setup {
    /// A token of the built-in tenant: the machine, or a user of the admin portal.
    fn token(&self, username: Option<&str>) -> String {
        let client_id = if username.is_some() {
            "admin-portal"
        } else {
            "reporting-job"
        };
        let scope = username
            .map(|_| "read:orders read:products write:products read:analytics delete:analytics");
        let request = TokenRequest::built_in(client_id, username, RETAIL, scope);
        self.issuer.issue(&request).expect("token").access_token
    }

    fn hits(&self) -> usize {
        self.upstream.hits.load(Ordering::SeqCst)
    }

    /// Sends raw bytes, returns the status and the rest of the answer.
    async fn raw(&self, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.proxy).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("read");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, answer)
    }

    /// GET `target` as written (no client-side normalisation), with a bearer token.
    async fn get_raw(&self, target: &str, token: Option<&str>) -> (u16, String) {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        self.raw(&format!(
            "GET {target} HTTP/1.1\r\nHost: api.test\r\n{auth}Connection: close\r\n\r\n"
        ))
        .await
    }
}

async fn get(url: String, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

#[tokio::test]
async fn each_route_decides_before_the_upstream_sees_the_request() {
    let s = setup("").await;
    let url = |path: &str| format!("http://{}{path}", s.proxy);
    let machine = format!("Bearer {}", s.token(None));
    let sam = format!("Bearer {}", s.token(Some("sam")));

    let (status, _, seen) = get(url("/hello?x=1"), &[]).await;
    assert_eq!((status, seen["target"].as_str()), (200, Some("/hello?x=1")));
    assert_eq!(s.hits(), 1);

    let refusals = [
        ("/orders", None, 401, Some(r#"Bearer realm="api""#)),
        ("/private/x", None, 401, Some(r#"Bearer realm="api""#)),
        (
            "/orders",
            Some("Bearer not.a.token"),
            401,
            Some(
                r#"Bearer realm="api", error="invalid_token", error_description="The access token is malformed""#,
            ),
        ),
        (
            "/admin/users",
            Some(sam.as_str()),
            403,
            Some(
                r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="delete:analytics""#,
            ),
        ),
        // A public route still refuses an invalid token.
        ("/hello", Some("Bearer not.a.token"), 401, None),
    ];
    for (path, auth, expected, challenge) in refusals {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let (status, got, _) = get(url(path), &headers).await;
        assert_eq!(status, expected, "{path} {auth:?}");
        if let Some(challenge) = challenge {
            assert_eq!(got.as_deref(), Some(challenge), "{path}");
        }
    }
    assert_eq!(s.hits(), 1, "no refused request reached the upstream");

    let (status, _, seen) = get(url("/orders/7"), &[("authorization", &sam)]).await;
    assert_eq!(status, 200);
    assert_eq!(seen["headers"]["x-auth-subject"], "auth0|sam");
    assert_eq!(seen["headers"]["x-auth-scopes"], "read:orders");
    assert_eq!(seen["headers"]["x-auth-client-id"], "admin-portal");
    let (status, _, seen) = get(url("/private"), &[("authorization", &machine)]).await;
    assert_eq!(
        (status, &seen["headers"]["x-auth-subject"]),
        (200, &json!("reporting-job@clients"))
    );
    assert_eq!(s.hits(), 3);
}

#[tokio::test]
async fn unmatched_routes_and_methods_are_refused() {
    let s = setup("").await;
    let machine = s.token(None);
    let client = reqwest::Client::new();
    // DELETE /orders: /orders allows GET only, and the public root does not take over.
    let cases = [
        ("DELETE", "/orders/7", None, 401),
        ("DELETE", "/orders/7", Some(&machine), 403),
        ("PUT", "/", Some(&machine), 403),
    ];
    for (method, path, token, expected) in cases {
        let mut request = client.request(
            method.parse().expect("method"),
            format!("http://{}{path}", s.proxy),
        );
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        if expected == 403 {
            let body: Value = response.json().await.expect("json");
            assert_eq!(
                body["error_description"],
                "No rule grants access to this route"
            );
        }
    }
    assert_eq!(s.hits(), 0);
}

#[tokio::test]
async fn spoofed_identity_and_forwarded_headers_never_reach_the_upstream() {
    let s = setup("").await;
    let url = format!("http://{}/orders", s.proxy);
    let sam = format!("Bearer {}", s.token(Some("sam")));
    let spoofs = [
        ("X-Auth-Subject", "auth0|admin"),
        ("x_auth_subject", "auth0|admin"),
        ("X-AUTH-SCOPES", "delete:analytics"),
        ("x_auth_client_id", "internal"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("X-Forwarded-Host", "admin.internal"),
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=10.0.0.1"),
        ("X-Real-IP", "10.0.0.1"),
        ("Connection", "x-keep-me"),
        ("X-Keep-Me", "1"),
    ];
    let mut headers = spoofs.to_vec();
    headers.push(("authorization", &sam));
    let (status, _, seen) = get(url.clone(), &headers).await;
    assert_eq!(status, 200);
    let seen = &seen["headers"];
    assert_eq!(seen["x-auth-subject"], "auth0|sam");
    assert_eq!(seen["x-auth-scopes"], "read:orders");
    assert_eq!(seen["x-auth-client-id"], "admin-portal");
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"], "http");
    assert_eq!(seen["x-forwarded-host"], s.proxy.to_string());
    for gone in [
        "x_auth_subject",
        "x_auth_client_id",
        "forwarded",
        "x-real-ip",
        "x-keep-me",
    ] {
        assert!(seen.get(gone).is_none(), "{gone} reached the upstream");
    }

    // Anonymous on a public route: no identity at all.
    let (status, _, seen) = get(format!("http://{}/", s.proxy), &spoofs[..4]).await;
    assert_eq!(status, 200);
    for gone in [
        "x-auth-subject",
        "x_auth_subject",
        "x-auth-scopes",
        "x_auth_client_id",
    ] {
        assert!(
            seen["headers"].get(gone).is_none(),
            "{gone} reached the upstream"
        );
    }
}

#[tokio::test]
async fn a_trusted_proxy_keeps_its_forwarded_chain() {
    let s = setup("[forwarding]\ntrusted_proxies = [\"127.0.0.0/8\"]").await;
    let headers = [
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Proto", "https"),
        ("X-Auth-Subject", "auth0|admin"),
    ];
    let (status, _, seen) = get(format!("http://{}/", s.proxy), &headers).await;
    assert_eq!(status, 200);
    assert_eq!(
        seen["headers"]["x-forwarded-for"],
        "198.51.100.7, 127.0.0.1"
    );
    assert_eq!(seen["headers"]["x-forwarded-proto"], "https");
    assert!(seen["headers"].get("x-auth-subject").is_none());
}

#[tokio::test]
async fn the_path_authorized_is_the_path_forwarded() {
    let s = setup("").await;
    let admin_token = s.token(Some("ivy")); // Inventory Manager: no delete:analytics
    // Each would reach /admin on some upstream through the public root if passed on.
    let refused = [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "/public/%2E./admin",
        "/public/%252e%252e/admin",
        "/public/..%2Fadmin",
        "/public%2F..%2Fadmin",
        "//admin",
        "/public//admin",
        "/public/%5C..%5Cadmin",
        "/public\\..\\admin",
        "/admin;x=1",
        "/public/%3B/admin",
        "/public/%00/admin",
        "/public/%0d%0aX-Auth-Subject:%20x",
        "/public/%zz",
    ];
    for target in refused {
        let (status, answer) = s.get_raw(target, None).await;
        assert_eq!(status, 400, "{target}: {answer}");
        assert!(
            answer.contains("The request path is not accepted"),
            "{target}"
        );
    }
    assert_eq!(s.hits(), 0);

    // Encoded unreserved characters are decoded before the route is chosen.
    let (status, _) = s.get_raw("/%61dmin/users", None).await;
    assert_eq!(status, 401);
    let (status, _) = s.get_raw("/%61dmin/users", Some(&admin_token)).await;
    assert_eq!(status, 403);
    // What passes is forwarded in the form that was authorized.
    let (status, answer) = s.get_raw("/%68ello/w%6Frld%20x?q=%2F..", None).await;
    assert_eq!(status, 200);
    assert!(
        answer.contains(r#""target":"/hello/world%20x?q=%2F..""#),
        "{answer}"
    );
    // Absolute-form request targets are authorized by their path too.
    let (status, _) = s.get_raw("http://api.test/admin/users", None).await;
    assert_eq!(status, 401);
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn bodies_stream_through_both_ways() {
    let s = setup("").await;
    let body: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let response = reqwest::Client::new()
        .post(format!("http://{}/echo", s.proxy))
        .bearer_auth(s.token(None))
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let echoed = response.bytes().await.expect("body");
    assert_eq!(echoed.len(), body.len());
    assert!(
        echoed.as_ref() == body.as_slice(),
        "the body came back changed"
    );
}

#[tokio::test]
async fn websocket_upgrades_are_tunnelled_after_the_checks() {
    let s = setup("").await;
    let upgrade = |token: Option<String>| {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        format!(
            "GET /private/socket HTTP/1.1\r\nHost: api.test\r\n{auth}Connection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
    };
    let (status, _) = s
        .raw(&upgrade(None).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(s.hits(), 0);

    let mut stream = TcpStream::connect(s.proxy).await.expect("connect");
    stream
        .write_all(upgrade(Some(s.token(None))).as_bytes())
        .await
        .expect("write");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.expect("head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    for message in [&b"ping"[..], b"frames are bytes to the proxy"] {
        stream.write_all(message).await.expect("send");
        let mut echoed = vec![0u8; message.len()];
        stream.read_exact(&mut echoed).await.expect("echo");
        assert_eq!(echoed, message);
    }
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let addr = start_proxy(&config(&issuer, closed, "")).await;
    let (status, _, body) = get(format!("http://{addr}/"), &[]).await;
    assert_eq!((status, &body["error"]), (502, &json!("bad_gateway")));
}

#[tokio::test]
async fn http2_clients_are_served_too() {
    use http_body_util::{BodyExt, Empty};
    let s = setup("").await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<bytes::Bytes>>();
    let request = |path: &str, token: Option<String>| {
        let mut request = http::Request::get(format!("http://{}{path}", s.proxy));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Empty::new()).expect("request")
    };
    let refused = client
        .request(request("/orders", None))
        .await
        .expect("h2 request");
    assert_eq!(
        (refused.version(), refused.status().as_u16()),
        (http::Version::HTTP_2, 401)
    );
    let response = client
        .request(request("/orders", Some(s.token(Some("sam")))))
        .await
        .expect("h2 request");
    assert_eq!(response.status(), 200);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let seen: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(seen["headers"]["x-auth-subject"], "auth0|sam");
    assert_eq!(seen["headers"]["x-forwarded-host"], s.proxy.to_string());
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_a_504_after_the_timeout() {
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    // Accepts connections and reads nothing, answers nothing.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let config = config(
        &issuer,
        silent_addr,
        "[forwarding]\nupstream_timeout_secs = 1",
    );
    let addr = start_proxy(&config).await;
    let (status, _, body) = get(format!("http://{addr}/"), &[]).await;
    assert_eq!((status, &body["error"]), (504, &json!("gateway_timeout")));
}
