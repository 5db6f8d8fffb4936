//! Forward-auth mode behind a real nginx: `auth_request` to the proxy's forward-auth
//! endpoint, `proxy_pass` to a real upstream that records what reaches it, identity
//! headers copied with `auth_request_set` + `proxy_set_header`, tokens from the dev
//! issuer. nginx must be installed (Debian: `apt-get install nginx`; `.ci/run` does):
//! without it these tests fail rather than pass unchecked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use http::HeaderMap;
use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
use scopegate_proxy::{Proxy, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

const RETAIL: &str = "https://retail.example/api";
const ENDPOINT: &str = "/_scopegate/auth";

/// What the upstream received: method, target, headers.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: HeaderMap,
}

/// An upstream that records every request and answers 200 `upstream`.
async fn upstream() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = axum::Router::new().fallback(move |request: Request| {
        let record = Arc::clone(&record);
        async move {
            record.lock().expect("lock").push(Seen {
                method: request.method().to_string(),
                target: request.uri().to_string(),
                headers: request.headers().clone(),
            });
            "upstream"
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (addr, seen)
}

/// The nginx binary: on `PATH` or where Debian puts it.
fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is not installed, and these tests run a real nginx in front of the \
                 proxy's forward-auth endpoint. Install it (Debian/Ubuntu: \
                 `apt-get install -y nginx`); `.ci/run` installs it."
            )
        })
}

/// The nginx configuration of the README, on test ports: `auth_request` to the proxy,
/// identity headers copied to the upstream request, the 403 challenge passed on (nginx
/// passes the 401 challenge itself).
fn nginx_config(dir: &Path, port: u16, proxy: SocketAddr, upstream: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        r#"
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    map $status $scopegate_403_challenge {{
        403 $scopegate_challenge;
        default "";
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            auth_request {ENDPOINT};
            auth_request_set $scopegate_subject $upstream_http_x_auth_subject;
            auth_request_set $scopegate_scopes $upstream_http_x_auth_scopes;
            auth_request_set $scopegate_client_id $upstream_http_x_auth_client_id;
            auth_request_set $scopegate_challenge $upstream_http_www_authenticate;
            add_header WWW-Authenticate $scopegate_403_challenge always;

            proxy_set_header Host $host;
            proxy_set_header X-Auth-Subject $scopegate_subject;
            proxy_set_header X-Auth-Scopes $scopegate_scopes;
            proxy_set_header X-Auth-Client-Id $scopegate_client_id;
            proxy_pass http://{upstream};
        }}

        location = {ENDPOINT} {{
            internal;
            proxy_pass http://{proxy};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
        }}
    }}
}}
"#
    )
}

/// A running nginx, stopped and its directory removed when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Nginx {
    async fn start(proxy: SocketAddr, upstream: SocketAddr) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let binary = nginx_binary();
        let dir = std::env::temp_dir().join(format!(
            "scopegate-forward-auth-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("nginx dir");
        // A free port: bound, read, released for nginx.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nginx_config(&dir, port, proxy, upstream)).expect("nginx.conf");
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        let mut nginx = Self {
            child,
            dir,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        };
        nginx.wait_until_listening().await;
        nginx
    }

    async fn wait_until_listening(&mut self) {
        for _ in 0..500 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}): {}", self.error_log());
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("nginx is not listening after 10 s: {}", self.error_log());
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An HTTP answer as read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }
}

/// Sends `head` (the request line and headers, without the blank line) as written, from
/// `from`, and reads the whole answer.
async fn send(to: SocketAddr, from: IpAddr, head: &str) -> Answer {
    let exchange = async {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(from, 0))
            .unwrap_or_else(|error| panic!("bind {from}: {error}"));
        let mut stream = socket.connect(to).await.expect("connect");
        let request = format!("{head}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    };
    let text = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("an answer within 10 s");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.get(9..12))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

struct Setup {
    issuer: DevIssuer,
    seen: Arc<Mutex<Vec<Seen>>>,
    proxy: SocketAddr,
    nginx: Nginx,
}

/// The dev issuer, the recording upstream, the proxy (forward-auth endpoint for
/// 127.0.0.1, routes towards the same upstream) and nginx in front of it all.
async fn setup() -> Setup {
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    let (upstream, seen) = upstream().await;
    let toml = format!(
        r#"
        [issuer]
        url = "{issuer}"
        audience = "{RETAIL}"
        [forward_auth]
        path = "{ENDPOINT}"
        front_proxies = ["127.0.0.1/32"]
        [[route]]
        prefix = "/"
        methods = ["GET"]
        upstream = "http://{upstream}"
        public = true
        [[route]]
        prefix = "/public"
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
        "#,
        issuer = issuer.issuer()
    );
    let config: ProxyConfig = toml::from_str(&toml).expect("config");
    let verifier = config.verifier().expect("verifier").expect("[issuer]");
    let proxy = Proxy::new(&config, verifier).expect("proxy");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let proxy_addr = listener.local_addr().expect("addr");
    tokio::spawn(scopegate_proxy::serve(listener, proxy));
    let nginx = Nginx::start(proxy_addr, upstream).await;
    Setup {
        issuer,
        seen,
        proxy: proxy_addr,
        nginx,
    }
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl Setup {
    /// The machine's token (`read:orders read:analytics`) or a user's of the admin portal.
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

    /// `method target` through nginx, with a bearer token and extra header lines.
    async fn through_nginx(
        &self,
        method: &str,
        target: &str,
        token: Option<&str>,
        extra: &[&str],
    ) -> Answer {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: api.test");
        if let Some(token) = token {
            head.push_str(&format!("\r\nAuthorization: Bearer {token}"));
        }
        for line in extra {
            head.push_str("\r\n");
            head.push_str(line);
        }
        send(self.nginx.addr, LOCALHOST, &head).await
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

const IDENTITY: [&str; 3] = ["x-auth-subject", "x-auth-scopes", "x-auth-client-id"];

#[tokio::test]
async fn without_a_token_nginx_answers_401_with_the_challenge_and_the_upstream_is_not_hit() {
    let s = setup().await;
    for target in ["/orders", "/orders/7?page=2", "/admin/users"] {
        let answer = s.through_nginx("GET", target, None, &[]).await;
        assert_eq!(answer.status, 401, "{target}");
        assert_eq!(
            answer.all("www-authenticate"),
            [r#"Bearer realm="api""#],
            "{target}"
        );
    }
    let answer = s
        .through_nginx("GET", "/orders", Some("not.a.token"), &[])
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.all("www-authenticate"),
        [
            r#"Bearer realm="api", error="invalid_token", error_description="The access token is malformed""#
        ]
    );
    assert!(s.seen().is_empty(), "refused requests reached the upstream");

    // A public route passes without one, and nothing claims an identity.
    let answer = s.through_nginx("GET", "/public/page", None, &[]).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "upstream"));
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    for name in IDENTITY {
        assert!(!seen[0].headers.contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn a_token_with_the_scope_passes_and_the_upstream_gets_the_identity_headers() {
    let s = setup().await;
    let sam = s.token(Some("sam"));
    let machine = s.token(None);

    let answer = s
        .through_nginx("GET", "/orders/7?page=2", Some(&sam), &[])
        .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "upstream"));
    let answer = s.through_nginx("GET", "/orders", Some(&machine), &[]).await;
    assert_eq!(answer.status, 200);

    let seen = s.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("GET", "/orders/7?page=2")
    );
    let identity = |seen: &Seen| {
        IDENTITY.map(|name| {
            seen.headers
                .get(name)
                .map(|v| v.to_str().expect("ascii").to_owned())
        })
    };
    assert_eq!(
        identity(&seen[0]),
        [
            Some("auth0|sam".to_owned()),
            Some("read:orders".to_owned()),
            Some("admin-portal".to_owned())
        ]
    );
    assert_eq!(
        identity(&seen[1])[0].as_deref(),
        Some("reporting-job@clients")
    );

    // The same tokens straight through the proxy: the upstream gets the same headers.
    for (token, via_nginx) in [(&sam, &seen[0]), (&machine, &seen[1])] {
        let head =
            format!("GET /orders HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer {token}");
        assert_eq!(send(s.proxy, LOCALHOST, &head).await.status, 200);
        let direct = s.seen().pop().expect("proxied request");
        assert_eq!(identity(&direct), identity(via_nginx));
    }
}

#[tokio::test]
async fn a_token_without_the_scope_gets_403_insufficient_scope_with_the_scope() {
    let s = setup().await;
    let sam = s.token(Some("sam"));
    let answer = s
        .through_nginx("GET", "/admin/users", Some(&sam), &[])
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.all("www-authenticate"),
        [
            r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="delete:analytics""#
        ]
    );
    // The original method decides, not the subrequest's (nginx asks with GET): /orders
    // allows GET only.
    let answer = s.through_nginx("POST", "/orders", Some(&sam), &[]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.all("www-authenticate"),
        [
            r#"Bearer realm="api", error="insufficient_scope", error_description="No rule grants access to this route""#
        ]
    );
    let answer = s.through_nginx("GET", "/orders", Some(&sam), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        s.seen().len(),
        1,
        "only the allowed request reached the upstream"
    );
}

#[tokio::test]
async fn paths_whose_canonical_reading_differs_are_refused() {
    let s = setup().await;
    let sam = s.token(Some("sam"));
    // /public is public and /admin needs delete:analytics, which sam lacks: each of these
    // is /public to a raw prefix match and /admin to some upstream.
    for target in [
        "/public/..%2Fadmin/users",
        "/public/%2e%2e/admin/users",
        "/public%2F..%2Fadmin",
        "/public/..%5Cadmin",
        "/public;/../admin",
        "/public//../admin",
    ] {
        for token in [None, Some(sam.as_str())] {
            let answer = s.through_nginx("GET", target, token, &[]).await;
            assert!(
                !(200..300).contains(&answer.status),
                "{target} passed: {answer:?}"
            );
        }
    }
    assert!(
        s.seen().is_empty(),
        "a refused reading reached the upstream"
    );
    // What the proxy says to nginx about them: 400, fixed text.
    for target in ["/public/..%2Fadmin/users", "/public/%2e%2e/admin/users"] {
        let head = format!(
            "GET {ENDPOINT} HTTP/1.1\r\nHost: api.test\r\nX-Original-Method: GET\r\nX-Original-URI: {target}"
        );
        let answer = send(s.proxy, LOCALHOST, &head).await;
        assert_eq!(answer.status, 400, "{target}");
        assert_eq!(
            answer.body,
            r#"{"error":"invalid_request","error_description":"The request path is not accepted"}"#
        );
    }
    // The public route itself passes.
    let answer = s.through_nginx("GET", "/public/x", None, &[]).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn descriptions_from_peers_that_are_not_front_proxies_are_not_believed() {
    let s = setup().await;
    let machine = s.token(None);
    let head = format!(
        "GET {ENDPOINT} HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer {machine}\r\nX-Original-Method: GET\r\nX-Original-URI: /orders"
    );
    // From the front proxy's address (127.0.0.1): believed, decided, identity given.
    let answer = send(s.proxy, LOCALHOST, &head).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("x-auth-subject"),
        Some("reporting-job@clients")
    );

    // From 127.0.0.2 (any loopback address reaches the proxy): refused, nothing given.
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    for head in [
        head.clone(),
        head.replace("X-Original-", "X-Forwarded-")
            .replace("-URI", "-Uri"),
    ] {
        let answer = send(s.proxy, other, &head).await;
        assert_eq!(answer.status, 403, "{head}");
        assert_eq!(
            answer.body,
            r#"{"error":"forbidden","error_description":"Forward-auth decisions are given only to the configured front proxies"}"#
        );
        for name in IDENTITY {
            assert_eq!(answer.header(name), None, "{name}");
        }
        assert_eq!(answer.header("www-authenticate"), None);
    }
    assert!(s.seen().is_empty());
}

#[tokio::test]
async fn a_client_cannot_redescribe_its_request_or_bring_its_own_identity_through_nginx() {
    let s = setup().await;
    let sam = s.token(Some("sam"));
    let cases: [(&str, &str, Option<&str>, &[&str]); 5] = [
        // nginx sets X-Original-URI; the client's X-Forwarded-Uri disagrees with it.
        (
            "GET",
            "/admin/users",
            Some(&sam),
            &["X-Forwarded-Uri: /public/x"],
        ),
        // nginx asks about POST /orders (GET only); the client's copy says GET.
        (
            "POST",
            "/orders",
            Some(&sam),
            &["X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders"],
        ),
        // Identity the upstream would trust, on a public route.
        ("GET", "/public/x", None, &["X-Auth-Subject: auth0|admin"]),
        (
            "GET",
            "/public/x",
            Some(&sam),
            &["X-Auth-Scopes: delete:analytics"],
        ),
        // A method override Symfony or Express would apply after the decision.
        (
            "POST",
            "/public/x",
            Some(&sam),
            &["X-HTTP-Method-Override: DELETE"],
        ),
    ];
    for (method, target, token, extra) in cases {
        let answer = s.through_nginx(method, target, token, extra).await;
        assert!(
            !(200..300).contains(&answer.status),
            "{method} {target} {extra:?} passed: {answer:?}"
        );
    }
    assert!(
        s.seen().is_empty(),
        "a refused request reached the upstream"
    );
}
