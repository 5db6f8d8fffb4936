//! Every reading an upstream could give a request, tried through the `scopegate-proxy`
//! binary: a raw-socket client writes the exact bytes, and a recording upstream keeps
//! exactly the bytes the proxy sent it, so each test shows what reached the upstream,
//! or that nothing did.

mod support;

use support::{ProxyBinary, RETAIL};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------
// The recording upstream
// ---------------------------------------------------------------------------------

/// An upstream on 127.0.0.1 that records every byte of every connection. Once a
/// connection holds a complete request it answers a fixed `200 ok` (or, for a
/// WebSocket handshake, `101` and then echoes), then keeps recording until the proxy
/// closes the connection.
struct Recorder {
    addr: SocketAddr,
    connections: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let index = {
                    let mut all = store.lock().expect("lock");
                    all.push(Vec::new());
                    all.len() - 1
                };
                tokio::spawn(record(stream, Arc::clone(&store), index));
            }
        });
        Self { addr, connections }
    }

    /// What each connection received, as text.
    fn received(&self) -> Vec<String> {
        self.connections
            .lock()
            .expect("lock")
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect()
    }

    /// The only connection's bytes (panics unless exactly one was made).
    fn only(&self) -> String {
        let received = self.received();
        assert_eq!(received.len(), 1, "connections: {received:#?}");
        received.into_iter().next().expect("one")
    }

    fn connections(&self) -> usize {
        self.connections.lock().expect("lock").len()
    }
}

async fn record(mut stream: TcpStream, store: Arc<Mutex<Vec<Vec<u8>>>>, index: usize) {
    let mut seen = Vec::new();
    let mut answered = false;
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(n @ 1..)) => n,
            _ => return,
        };
        seen.extend_from_slice(&buf[..n]);
        store.lock().expect("lock")[index].extend_from_slice(&buf[..n]);
        if answered {
            continue;
        }
        let Some(head_end) = find(&seen, b"\r\n\r\n").map(|i| i + 4) else {
            continue;
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
        if head.contains("\r\nupgrade: websocket\r\n") {
            let switch = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\
                          Upgrade: websocket\r\n\r\n";
            if stream.write_all(switch.as_bytes()).await.is_err() {
                return;
            }
            echo(stream, &seen[head_end..], store, index).await;
            return;
        }
        if body_complete(&head, &seen[head_end..]) {
            answered = true;
            let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
            if stream.write_all(ok.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// Echoes (and records) every byte after the upgrade.
async fn echo(mut stream: TcpStream, early: &[u8], store: Arc<Mutex<Vec<Vec<u8>>>>, index: usize) {
    if !early.is_empty() && stream.write_all(early).await.is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n @ 1..)) = tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
        store.lock().expect("lock")[index].extend_from_slice(&buf[..n]);
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `body` completes a request with this (lower-cased) head.
fn body_complete(head: &str, body: &[u8]) -> bool {
    if head.contains("\r\ntransfer-encoding: chunked\r\n") {
        let mut rest = body;
        loop {
            let Some(line_end) = find(rest, b"\r\n") else {
                return false;
            };
            let size = std::str::from_utf8(&rest[..line_end])
                .ok()
                .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok());
            let Some(size) = size else { return false };
            rest = &rest[line_end + 2..];
            if size == 0 {
                return find(rest, b"\r\n").is_some();
            }
            if rest.len() < size + 2 {
                return false;
            }
            rest = &rest[size + 2..];
        }
    }
    let length = head
        .split("\r\n")
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

/// The header lines of a recorded request, as (lower-cased name, value).
fn header_lines(request: &str) -> Vec<(String, String)> {
    let head = request.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------
// The proxy binary
// ---------------------------------------------------------------------------------

/// Starts the binary with `config` and waits until it listens.
async fn spawn_proxy(config: &str) -> ProxyBinary {
    ProxyBinary::start(config, "error").await
}

/// The dev issuer, the recording upstream and the binary in front of it with these
/// routes: `/` public (any method), `/public/admin` and `/admin` needing
/// `delete:analytics`, `/orders` GET needing `read:orders`, `/private` any token.
struct Setup {
    issuer: DevIssuer,
    upstream: Recorder,
    proxy: ProxyBinary,
}

async fn setup(forwarding: &str) -> Setup {
    setup_with(Tenant::built_in(), forwarding).await
}

async fn setup_with(tenant: Tenant, forwarding: &str) -> Setup {
    let issuer = DevIssuer::start(tenant).await.expect("dev issuer");
    let upstream = Recorder::start().await;
    let up = upstream.addr;
    let config = format!(
        r#"
        [issuer]
        url = "{issuer}"
        audience = "{RETAIL}"

        [forwarding]
        {forwarding}

        [[route]]
        prefix = "/"
        upstream = "http://{up}"
        public = true
        [[route]]
        prefix = "/public/admin"
        upstream = "http://{up}"
        require.all = ["delete:analytics"]
        [[route]]
        prefix = "/admin"
        upstream = "http://{up}"
        require.all = ["delete:analytics"]
        [[route]]
        prefix = "/orders"
        methods = ["GET"]
        upstream = "http://{up}"
        require.all = ["read:orders"]
        [[route]]
        prefix = "/private"
        upstream = "http://{up}"
        [[route]]
        prefix = "/v1/orders:cancel"
        upstream = "http://{up}"
        require.all = ["delete:analytics"]
        "#,
        issuer = issuer.issuer()
    );
    let proxy = spawn_proxy(&config).await;
    Setup {
        issuer,
        upstream,
        proxy,
    }
}

impl Setup {
    /// A token for the machine client (read:orders read:analytics).
    fn token(&self) -> String {
        let request = TokenRequest::built_in("reporting-job", None, RETAIL, None);
        self.issuer.issue(&request).expect("token").access_token
    }
}

// ---------------------------------------------------------------------------------
// The raw client
// ---------------------------------------------------------------------------------

/// An answer read to the end of the connection.
struct Answer {
    status: u16,
    text: String,
}

/// Writes `request` as it is and reads the answer until the proxy closes the
/// connection. Write errors are ignored: the proxy may answer and close before it has
/// read everything.
async fn send(proxy: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(proxy).await.expect("connect");
    let _ = stream.write_all(request).await;
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            bytes.extend_from_slice(&buf[..n]);
        }
    });
    read.await.expect("the proxy answers and closes");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, text }
}

/// A `Connection: close` request with these extra header lines (each ending in CRLF)
/// and body.
fn raw(method_and_target: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method_and_target} HTTP/1.1\r\nHost: api.test\r\n{headers}Connection: close\r\n\r\n{body}"
    )
    .into_bytes()
}

/// Reads a response head (up to the blank line) byte by byte, leaving the stream at the
/// first byte after it.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let read = async {
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.expect("head");
            head.push(byte[0]);
        }
    };
    tokio::time::timeout(PATIENCE, read).await.expect("a head");
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

/// A WebSocket opening handshake for `target`, with extra header lines.
fn websocket(target: &str, token: Option<&str>, extra: &str) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {target} HTTP/1.1\r\nHost: api.test\r\n{auth}Connection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// Opens a WebSocket tunnel through the proxy and checks one echo through it.
async fn open_tunnel(proxy: SocketAddr, handshake: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(proxy).await.expect("connect");
    stream.write_all(handshake).await.expect("write");
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert_echo(&mut stream, b"hello through the tunnel").await;
    stream
}

async fn assert_echo(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).await.expect("send");
    let mut echoed = vec![0u8; message.len()];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .expect("echo");
    assert_eq!(echoed, message);
}

/// Waits until the proxy closes `stream`; returns how long that took.
async fn wait_closed(stream: &mut TcpStream) -> Duration {
    let start = std::time::Instant::now();
    let mut buf = [0u8; 64];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, closed)
        .await
        .expect("the proxy closes the tunnel");
    start.elapsed()
}

// ---------------------------------------------------------------------------------
// 1. Upgrades
// ---------------------------------------------------------------------------------

/// hypercorn and Go's h2c handler switch to HTTP/2 on `Upgrade: h2c`; after the 101 the
/// client would talk to the upstream past every route.
#[tokio::test]
async fn upgrades_other_than_websocket_never_reach_the_upstream() {
    let s = setup("").await;
    let token = s.token();
    let refused = [
        raw(
            "GET /",
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n",
            "",
        ),
        raw(
            "GET /private/x",
            &format!("Authorization: Bearer {token}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"),
            "",
        ),
        raw("GET /", "Upgrade: h2c\r\n", ""),
        raw(
            "GET /",
            "Connection: Upgrade\r\nUpgrade: websocket, h2c\r\n",
            "",
        ),
        raw("GET /", "Connection: Upgrade\r\nUpgrade: TLS/1.2\r\n", ""),
        raw(
            "GET /",
            "Connection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n",
            "",
        ),
        raw(
            "POST /",
            "Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n",
            "",
        ),
        b"GET / HTTP/1.0\r\nHost: api.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            .to_vec(),
    ];
    for request in refused {
        let answer = send(s.proxy.addr, &request).await;
        assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(&request));
        assert!(
            answer.text.contains("Only WebSocket upgrades are accepted"),
            "{}",
            answer.text
        );
    }
    assert_eq!(s.upstream.connections(), 0, "{:#?}", s.upstream.received());

    // HTTP2-Settings is hop-by-hop: never forwarded, named in Connection or not, nor
    // are underscore spellings of framing headers (CGI reads `transfer_encoding` as
    // HTTP_TRANSFER_ENCODING).
    let answer = send(
        s.proxy.addr,
        &raw(
            "GET /x",
            "Connection: HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nhttp2_settings: x\r\n\
             transfer_encoding: chunked\r\ncontent_length: 99\r\n",
            "",
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let seen = s.upstream.only().to_ascii_lowercase();
    for gone in [
        "http2-settings",
        "http2_settings",
        "transfer_encoding",
        "content_length",
    ] {
        assert!(!seen.contains(gone), "{gone}: {seen}");
    }
}

#[tokio::test]
async fn a_websocket_upgrade_reaches_the_upstream_as_websocket_only() {
    let s = setup("").await;
    let mut stream = open_tunnel(
        s.proxy.addr,
        &websocket("/socket", None, "HTTP2-Settings: AAMAAABkAAQAAP__\r\n"),
    )
    .await;
    assert_echo(&mut stream, b"second message").await;
    let seen = s.upstream.only();
    let head: Vec<(String, String)> = header_lines(&seen);
    let value = |name: &str| {
        head.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert!(seen.starts_with("GET /socket HTTP/1.1\r\n"), "{seen}");
    assert_eq!(value("upgrade"), ["websocket"]);
    assert_eq!(value("connection"), ["upgrade"]);
    assert!(value("http2-settings").is_empty(), "{seen}");
    assert!(
        seen.ends_with("hello through the tunnelsecond message"),
        "{seen}"
    );
}

/// A tunnel carries requests the proxy never sees, so it may not outlive the token that
/// opened it.
#[tokio::test]
async fn a_tunnel_ends_when_its_token_expires() {
    let mut tenant = Tenant::built_in();
    tenant.token_lifetime_secs = 4; // short: the test waits for the expiry
    let s = setup_with(tenant, "").await;
    let token = s.token();
    let mut stream = open_tunnel(
        s.proxy.addr,
        &websocket("/private/socket", Some(&token), ""),
    )
    .await;
    // An anonymous tunnel on a public route, opened at the same time, has no expiry.
    let mut public = open_tunnel(s.proxy.addr, &websocket("/socket", None, "")).await;
    // The idle time is 300 s: only the expiry can end the first.
    let lived = wait_closed(&mut stream).await;
    assert!(lived < Duration::from_secs(10), "{lived:?}");
    assert_echo(&mut public, b"still open").await;
}

#[tokio::test]
async fn a_tunnel_ends_after_the_idle_time() {
    let s = setup("tunnel_idle_timeout_secs = 1").await;
    let token = s.token();
    let mut stream = open_tunnel(
        s.proxy.addr,
        &websocket("/private/socket", Some(&token), ""),
    )
    .await;
    // Traffic every 300 ms keeps it open for 1.8 s, longer than the idle time.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_echo(&mut stream, b"tick").await;
    }
    let idle = wait_closed(&mut stream).await;
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_secs(5),
        "{idle:?}"
    );
}

// ---------------------------------------------------------------------------------
// 2. Letter case
// ---------------------------------------------------------------------------------

/// Express, ASP.NET Core, IIS and case-insensitive file systems serve `/ORDERS` as
/// `/orders`: with the shipped `proxy.toml`, it must not pass under the public `/`.
#[tokio::test]
async fn with_the_shipped_config_orders_in_capitals_is_not_public() {
    let upstream = Recorder::start().await;
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../proxy.toml"))
        .expect("proxy.toml");
    let config = shipped
        .replace("listen = \"127.0.0.1:8080\"", "")
        .replace("127.0.0.1:9000", &upstream.addr.to_string());
    let proxy = spawn_proxy(&config).await;
    for target in [
        "/ORDERS",
        "/Orders/7",
        "/oRdErS?x=1",
        "/REPORTS",
        "/Products",
    ] {
        let answer = send(proxy.addr, &raw(&format!("GET {target}"), "", "")).await;
        assert_eq!(answer.status, 400, "{target}: {}", answer.text);
        assert!(
            answer
                .text
                .contains("The request path has another route in another letter case"),
            "{}",
            answer.text
        );
    }
    assert_eq!(upstream.connections(), 0);
    // Case that changes no rule passes as it came.
    let answer = send(proxy.addr, &raw("GET /Index.HTML", "", "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(upstream.only().starts_with("GET /Index.HTML HTTP/1.1\r\n"));
}

#[tokio::test]
async fn a_scoped_path_in_other_letter_case_is_refused() {
    let s = setup("").await;
    for target in [
        "/public/ADMIN/users",
        "/Public/Admin",
        "/ADMIN",
        "/%41dmin",    // %41 is A
        "/adm%C4%B1n", // dotless i: folds to admin
        "/PRIVATE/x",
        "/pr%C4%B1vate", // dotless i again, for the any-token route
    ] {
        let answer = send(s.proxy.addr, &raw(&format!("GET {target}"), "", "")).await;
        assert_eq!(answer.status, 400, "{target}: {}", answer.text);
    }
    assert_eq!(s.upstream.connections(), 0);
}

// ---------------------------------------------------------------------------------
// 3. Method and URL overrides
// ---------------------------------------------------------------------------------

/// Symfony, Laravel and Express's method-override run a POST authorized as POST as the
/// DELETE these headers name; IIS, Symfony and Laminas route by `X-Original-URL`.
#[tokio::test]
async fn method_and_url_overrides_never_reach_the_upstream() {
    let s = setup("trusted_proxies = [\"127.0.0.0/8\"]").await;
    let overrides = "X-HTTP-Method-Override: DELETE\r\nx_http_method_override: DELETE\r\n\
                     X-HTTP-Method: DELETE\r\nX_HTTP_METHOD: DELETE\r\nX-Method-Override: DELETE\r\n\
                     x-method_override: DELETE\r\nX-Original-URL: /admin\r\nx_original_url: /admin\r\n\
                     X-Rewrite-URL: /admin\r\nX_REWRITE_URL: /admin\r\nX-Original-Method: DELETE\r\n\
                     X-Original-URI: /admin\r\nX-HTTP-Method.Override: DELETE\r\n\
                     X-Original.URL: /admin\r\nContent-Length: 7\r\n";
    // Even from a trusted proxy: the route was chosen by the request line.
    let answer = send(s.proxy.addr, &raw("POST /form", overrides, "_method")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let seen = s.upstream.only();
    let lower = seen.to_ascii_lowercase();
    for gone in [
        "override",
        "x-http-method",
        "x_http_method",
        "original",
        "rewrite",
        "/admin",
        "delete",
    ] {
        assert!(
            !lower.contains(gone),
            "{gone} reached the upstream:\n{seen}"
        );
    }
    assert!(seen.starts_with("POST /form HTTP/1.1\r\n"), "{seen}");
    assert!(
        seen.ends_with("\r\n\r\n_method"),
        "the body is the upstream's: {seen}"
    );
}

// ---------------------------------------------------------------------------------
// 4. Encodings and Windows names
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn escapes_and_names_with_another_reading_are_refused() {
    let s = setup("").await;
    let refused = [
        // Overlong, truncated, lone-continuation and surrogate UTF-8.
        "/public/%c0%ae%c0%ae/admin",
        "/public/%c0%af..%c0%afadmin",
        "/public/%e0%80%ae%e0%80%ae/admin",
        "/public/%80",
        "/public/%c3",
        "/public/%ed%a0%80",
        // Windows trims trailing dots and spaces, reads ... as .., and more.
        "/public/.../admin",
        "/public/..%20/admin",
        "/public/.%20./admin",
        "/admin.",
        "/admin./users",
        "/admin%20",
        "/admin%20/users",
        "/ADMINI~1/users",
        "/admin::$DATA",
        // Best-fit and NFKC lookalikes of / . and letters.
        "/public/%EF%BC%8F..%EF%BC%8Fadmin",
        "/public/%EF%BC%8E%EF%BC%8E/admin",
        "/%EF%BD%81dmin",
        "/public/%C2%A5..%C2%A5admin",
    ];
    for target in refused {
        let answer = send(s.proxy.addr, &raw(&format!("GET {target}"), "", "")).await;
        assert_eq!(answer.status, 400, "{target}: {}", answer.text);
        assert!(
            answer.text.contains("The request path is not accepted"),
            "{target}"
        );
    }
    assert_eq!(s.upstream.connections(), 0, "{:#?}", s.upstream.received());

    // Encoded path punctuation is what Go, ASP.NET Core, Spring and Django route by:
    // `%3A` is the scoped custom method `:cancel`, not a path under the public root.
    let token = s.token();
    let auth = format!("Authorization: Bearer {token}\r\n");
    for target in [
        "/v1/orders%3Acancel",
        "/v1/orders%3acancel",
        "/v1/orders:cancel",
    ] {
        let answer = send(s.proxy.addr, &raw(&format!("GET {target}"), &auth, "")).await;
        assert_eq!(answer.status, 403, "{target}: {}", answer.text);
    }
    assert_eq!(s.upstream.connections(), 0, "{:#?}", s.upstream.received());

    // Valid UTF-8 passes in canonical form.
    let answer = send(s.proxy.addr, &raw("GET /caf%c3%a9/%E2%82%AC", "", "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        s.upstream
            .only()
            .starts_with("GET /caf%C3%A9/%E2%82%AC HTTP/1.1\r\n")
    );
}

// ---------------------------------------------------------------------------------
// 5. Forwarding headers
// ---------------------------------------------------------------------------------

/// Headers an upstream reads as facts about the client, its address, host or scheme.
const SPOOFED: [(&str, &str); 26] = [
    ("X-Forwarded-For", "10.0.0.1"),
    ("X-Forwarded-Host", "admin.internal"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Port", "443"),
    ("X-Forwarded-Prefix", "/admin"),
    ("X-Forwarded-Uri", "/admin"),
    ("X-Forwarded-Path", "/admin"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Forwarded-Ssl", "on"),
    ("X-Forwarded-Server", "internal"),
    ("X-Forwarded-User", "admin"),
    ("X-Forwarded-Email", "ceo@example.com"),
    ("X-Forwarded-Client-Cert", "Hash=1"),
    ("x_forwarded_for", "10.0.0.2"),
    ("Forwarded", "for=10.0.0.1;proto=https"),
    ("X-Real-IP", "10.0.0.1"),
    ("X-Client-IP", "10.0.0.1"),
    ("True-Client-IP", "10.0.0.1"),
    ("CF-Connecting-IP", "10.0.0.1"),
    ("X-Cluster-Client-IP", "10.0.0.1"),
    ("Fastly-Client-IP", "10.0.0.1"),
    ("X-Original-Forwarded-For", "10.0.0.1"),
    ("x_real_ip", "10.0.0.1"),
    ("X-Original-Host", "admin.internal"),
    ("Front-End-Https", "on"),
    ("WL-Proxy-Client-IP", "10.0.0.1"),
];

fn spoofed_lines() -> String {
    SPOOFED
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect()
}

/// The recorded headers whose names (any case, `_` for `-`) are in [`SPOOFED`].
fn forwarding_headers(request: &str) -> Vec<(String, String)> {
    let spoofable: Vec<String> = SPOOFED
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase().replace('_', "-"))
        .collect();
    header_lines(request)
        .into_iter()
        .filter(|(name, _)| spoofable.contains(&name.replace('_', "-")))
        .collect()
}

#[tokio::test]
async fn forwarding_and_client_ip_headers_from_clients_never_reach_the_upstream() {
    let s = setup("").await;
    let answer = send(s.proxy.addr, &raw("GET /x", &spoofed_lines(), "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let seen = s.upstream.only();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        forwarding_headers(&seen),
        pairs(&[
            ("x-forwarded-for", "127.0.0.1"),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "api.test"),
        ]),
        "{seen}"
    );
}

#[tokio::test]
async fn the_public_host_is_sent_and_a_trusted_proxy_keeps_its_own_headers() {
    let s = setup("trusted_proxies = [\"127.0.0.0/8\"]\npublic_host = \"api.example.com\"").await;
    let answer = send(s.proxy.addr, &raw("GET /x", &spoofed_lines(), "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let seen = forwarding_headers(&s.upstream.only());
    let mut expected: Vec<(String, String)> = SPOOFED
        .iter()
        .filter(|(name, _)| !name.contains('_')) // the client's copies, not the proxy's
        .map(|(name, value)| (name.to_ascii_lowercase(), (*value).to_owned()))
        .collect();
    for (name, value) in &mut expected {
        match name.as_str() {
            "x-forwarded-for" => *value = "10.0.0.1, 127.0.0.1".into(),
            "x-forwarded-host" => *value = "api.example.com".into(),
            _ => {}
        }
    }
    let sorted = |mut list: Vec<(String, String)>| {
        list.sort();
        list
    };
    assert_eq!(sorted(seen), sorted(expected));
}

#[tokio::test]
async fn without_a_trusted_peer_the_public_host_replaces_the_clients() {
    let s = setup("public_host = \"api.example.com:8443\"").await;
    let answer = send(
        s.proxy.addr,
        &raw("GET /x", "X-Forwarded-Host: admin.internal\r\n", ""),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let hosts: Vec<String> = header_lines(&s.upstream.only())
        .into_iter()
        .filter(|(name, _)| name == "x-forwarded-host")
        .map(|(_, value)| value)
        .collect();
    assert_eq!(hosts, ["api.example.com:8443"]);
}

// ---------------------------------------------------------------------------------
// 6. Methods and framing
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn connect_trace_and_lower_case_methods_are_refused() {
    let s = setup("").await;
    let cases = [
        (raw("CONNECT /public/x", "", ""), 405),
        (
            b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n"
                .to_vec(),
            405,
        ),
        (raw("TRACE /public/x", "", ""), 405),
        (raw("TRACK /public/x", "", ""), 405),
        (raw("delete /orders/7", "", ""), 400),
        (raw("get /x", "", ""), 400),
    ];
    for (request, status) in cases {
        let answer = send(s.proxy.addr, &request).await;
        assert_eq!(answer.status, status, "{}", answer.text);
        if status == 405 {
            assert!(
                answer.text.ends_with(
                    r#"{"error":"method_not_allowed","error_description":"The request method is not forwarded"}"#
                ),
                "{}",
                answer.text
            );
        }
    }
    assert_eq!(s.upstream.connections(), 0, "{:#?}", s.upstream.received());
}

/// A malformed chunked body is the client's fault: 400, and the upstream never
/// receives a complete request made of it.
#[tokio::test]
async fn a_malformed_chunked_body_is_a_400_and_never_a_complete_upstream_request() {
    let s = setup("").await;
    let chunked = "Transfer-Encoding: chunked\r\n";
    let bodies = [
        "10000000000000000\r\nx\r\n0\r\n\r\n", // size overflows u64
        "5\nhello\r\n0\r\n\r\n",               // bare LF after the size
        "5\r\nhello\n0\r\n\r\n",               // bare LF after the data
        "5\r\nhello, world\r\n0\r\n\r\n",      // a chunk longer than its size
        "zz\r\nhello\r\n0\r\n\r\n",            // not a size
        "5;a=\nb\r\nhello\r\n0\r\n\r\n",       // LF inside an extension
    ];
    for body in bodies {
        let answer = send(s.proxy.addr, &raw("POST /upload", chunked, body)).await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text);
        assert!(
            answer
                .text
                .contains("The request body is malformed or incomplete"),
            "{body:?}: {}",
            answer.text
        );
    }
    // A body cut short: the client stops sending and half-closes.
    let mut stream = TcpStream::connect(s.proxy.addr).await.expect("connect");
    stream
        .write_all(&raw("POST /upload", "Content-Length: 10\r\n", "12345"))
        .await
        .expect("write");
    stream.shutdown().await.expect("half-close");
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 400, "{}", answer.text);

    for request in s.upstream.received() {
        assert!(
            !request.contains("\r\n0\r\n\r\n"),
            "a complete chunked body: {request}"
        );
        assert!(!request.contains("1234567890"), "{request}");
    }
}

/// What hyper refuses before the proxy sees the request, and what the proxy refuses
/// itself: nothing of either reaches the upstream.
#[tokio::test]
async fn ambiguous_framing_is_refused_by_hyper_or_the_proxy() {
    let s = setup("").await;
    let refused: [&[u8]; 10] = [
        // hyper: chunked is not the last coding, or not a coding it knows.
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        // hyper: Transfer-Encoding in HTTP/1.0.
        b"POST /x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // hyper: differing or malformed Content-Length.
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd",
        // hyper (httparse): whitespace before the colon, obsolete line folding.
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
        // The proxy: a coding besides chunked, chunked twice.
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    ];
    for request in refused {
        let answer = send(s.proxy.addr, request).await;
        assert_eq!(
            answer.status,
            400,
            "{}: {}",
            String::from_utf8_lossy(request),
            answer.text
        );
    }
    // The proxy: two Hosts, or a Host other than the absolute target's.
    for request in [
        &b"GET /x HTTP/1.1\r\nHost: api.test\r\nHost: admin.internal\r\nConnection: close\r\n\r\n"
            [..],
        b"GET http://admin.internal/x HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n",
    ] {
        let answer = send(s.proxy.addr, request).await;
        assert_eq!(answer.status, 400, "{}", answer.text);
        assert!(
            answer.text.contains("The request host is not accepted"),
            "{}",
            answer.text
        );
    }
    assert_eq!(s.upstream.connections(), 0, "{:#?}", s.upstream.received());
}

/// Shapes hyper accepts: each reaches the upstream re-framed by the proxy, with one
/// reading.
#[tokio::test]
async fn accepted_framing_reaches_the_upstream_re_framed() {
    let s = setup("").await;
    // Content-Length and chunked: read as chunked (RFC 9112 §6.3); the Content-Length
    // (which would end the body after `hell`) is dropped, in either order.
    for headers in [
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
    ] {
        let answer = send(
            s.proxy.addr,
            &raw("POST /cl-te", headers, "5\r\nhello\r\n0\r\n\r\n"),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // A GET with a chunked body hiding a second request: forwarded without the body.
    let smuggled = "GET /admin HTTP/1.1\r\nHost: api.test\r\n\r\n";
    let body = format!("{:x}\r\n{smuggled}\r\n0\r\n\r\n", smuggled.len());
    let answer = send(
        s.proxy.addr,
        &raw(
            "GET /get-with-body",
            "Transfer-Encoding: chunked\r\n",
            &body,
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Bare LF line endings in the head: forwarded with CRLF.
    let answer = send(
        s.proxy.addr,
        b"GET /bare-lf HTTP/1.1\nHost: api.test\nX-Test: 1\nConnection: close\n\n",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Trailers never pass (they could carry identity headers).
    let answer = send(
        s.proxy.addr,
        &raw(
            "POST /trailers",
            "Transfer-Encoding: chunked\r\nTrailer: X-Auth-Subject\r\n",
            "5\r\nhello\r\n0\r\nX-Auth-Subject: auth0|admin\r\n\r\n",
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    let received = s.upstream.received();
    assert_eq!(received.len(), 5, "{received:#?}");
    for request in &received {
        assert_eq!(
            request.matches(" HTTP/1.1\r\n").count(),
            1,
            "one request: {request}"
        );
        assert!(!request.contains("/admin"), "{request}");
        assert!(
            !request.to_ascii_lowercase().contains("content-length: 4"),
            "{request}"
        );
        assert!(
            !request.to_ascii_lowercase().contains("x-auth-subject"),
            "{request}"
        );
        assert!(
            !request.replace("\r\n", "").contains('\n'),
            "bare LF: {request}"
        );
    }
    let by_target = |target: &str| {
        received
            .iter()
            .find(|r| r.contains(&format!(" {target} ")))
            .unwrap_or_else(|| panic!("{target} not forwarded: {received:#?}"))
    };
    assert!(by_target("/cl-te").ends_with("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    assert!(by_target("/get-with-body").ends_with("\r\n\r\n"));
    assert!(by_target("/trailers").ends_with("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
}
