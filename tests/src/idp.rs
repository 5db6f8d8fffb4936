//! A controllable identity provider on 127.0.0.1: serves discovery metadata and a JWKS,
//! and on demand fails, slows down, redirects, or returns garbage or huge bodies.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Response, StatusCode, Uri, header};
use serde_json::{Value, json};

/// How the JWKS endpoint answers.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Serve the JWKS.
    Serve,
    /// Answer with this status and no body.
    Status(u16),
    /// Serve the JWKS after this delay.
    Slow(Duration),
    /// Answer with a body that is not JSON.
    Garbage,
    /// Answer with a body of this many bytes.
    Huge(usize),
    /// Redirect (302) to this URL.
    Redirect(String),
    /// Answer with this body.
    Raw(String),
}

/// Which metadata documents are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// OIDC discovery metadata pointing at the discovered JWKS path.
    Oidc,
    /// RFC 8414 metadata only.
    Rfc8414,
    /// No metadata (404): the JWKS is at the fallback path.
    None,
    /// OIDC metadata naming another issuer.
    WrongIssuer,
    /// OIDC metadata with a plain-HTTP, non-loopback `jwks_uri`.
    InsecureJwksUri,
}

#[derive(Debug)]
struct State {
    jwks: Value,
    mode: Mode,
    metadata: Metadata,
    cache_control: Option<String>,
    hits: HashMap<String, u64>,
}

/// The running server. Dropping it does not stop it; the test runtime ends it.
#[derive(Debug, Clone)]
pub struct Idp {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    jwks_hits: Arc<AtomicU64>,
    running: Arc<Mutex<Option<Running>>>,
}

/// A serving task and the signal that stops it.
#[derive(Debug)]
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Where discovery points the JWKS (distinct from Auth0's fallback location).
/// The JWKS path that discovery metadata names.
pub const DISCOVERED_JWKS_PATH: &str = "/discovered/jwks.json";
/// Auth0's JWKS location, used without metadata.
pub const FALLBACK_JWKS_PATH: &str = "/.well-known/jwks.json";

impl Idp {
    /// Starts serving `jwks` on 127.0.0.1 with the given metadata.
    pub async fn start(jwks: Value, metadata: Metadata) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let idp = Self {
            addr,
            state: Arc::new(Mutex::new(State {
                jwks,
                mode: Mode::Serve,
                metadata,
                cache_control: None,
                hits: HashMap::new(),
            })),
            jwks_hits: Arc::new(AtomicU64::new(0)),
            running: Arc::new(Mutex::new(None)),
        };
        idp.serve(listener);
        idp
    }

    /// Takes the server down: the port is closed and connections are refused, as when
    /// an issuer is unreachable. Does nothing if it is down already.
    pub async fn stop(&self) {
        let running = self.running.lock().expect("lock").take();
        if let Some(Running { stop, task }) = running {
            let _ = stop.send(());
            task.await.expect("the server stops");
        }
    }

    /// Brings a stopped server back on the same address. Does nothing if it is running.
    pub async fn resume(&self) {
        if self.running.lock().expect("lock").is_some() {
            return;
        }
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebind the issuer's address");
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let handler_idp = self.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let idp = handler_idp.clone();
            async move { idp.answer(uri).await }
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        *self.running.lock().expect("lock") = Some(Running { stop, task });
    }

    /// `http://127.0.0.1:PORT/`, with a trailing slash as Auth0 writes issuers.
    pub fn issuer(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Replaces the served JWKS.
    pub fn set_jwks(&self, jwks: Value) {
        self.state.lock().expect("lock").jwks = jwks;
    }

    /// Changes how the JWKS endpoint answers.
    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("lock").mode = mode;
    }

    /// Adds a `Cache-Control` header to JWKS answers.
    pub fn set_cache_control(&self, value: &str) {
        self.state.lock().expect("lock").cache_control = Some(value.to_owned());
    }

    /// Requests to any JWKS path.
    pub fn jwks_hits(&self) -> u64 {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    /// Requests to one path.
    pub fn hits(&self, path: &str) -> u64 {
        self.state
            .lock()
            .expect("lock")
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    async fn answer(&self, uri: Uri) -> Response<Body> {
        let path = uri.path().to_owned();
        let (jwks, mode, metadata, cache_control) = {
            let mut state = self.state.lock().expect("lock");
            *state.hits.entry(path.clone()).or_default() += 1;
            (
                state.jwks.clone(),
                state.mode.clone(),
                state.metadata,
                state.cache_control.clone(),
            )
        };
        let issuer = self.issuer();
        let metadata_doc = |jwks_uri: String, issuer: String| {
            json_response(
                json!({"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": self.url("/oauth/token")}),
                None,
            )
        };
        match path.as_str() {
            "/.well-known/openid-configuration" => match metadata {
                Metadata::Oidc => metadata_doc(self.url(DISCOVERED_JWKS_PATH), issuer),
                Metadata::WrongIssuer => metadata_doc(
                    self.url(DISCOVERED_JWKS_PATH),
                    "https://evil.example/".into(),
                ),
                Metadata::InsecureJwksUri => {
                    metadata_doc(format!("http://keys.example{DISCOVERED_JWKS_PATH}"), issuer)
                }
                _ => status(404),
            },
            "/.well-known/oauth-authorization-server" if metadata == Metadata::Rfc8414 => {
                metadata_doc(self.url(DISCOVERED_JWKS_PATH), issuer)
            }
            DISCOVERED_JWKS_PATH | FALLBACK_JWKS_PATH => {
                self.jwks_hits.fetch_add(1, Ordering::SeqCst);
                match mode {
                    Mode::Serve => json_response(jwks, cache_control),
                    Mode::Status(code) => status(code),
                    Mode::Slow(delay) => {
                        tokio::time::sleep(delay).await;
                        json_response(jwks, cache_control)
                    }
                    Mode::Garbage => Response::new(Body::from("<html>not json</html>")),
                    Mode::Huge(bytes) => Response::new(Body::from(vec![b' '; bytes])),
                    Mode::Redirect(to) => Response::builder()
                        .status(StatusCode::FOUND)
                        .header(header::LOCATION, to)
                        .body(Body::empty())
                        .expect("response"),
                    Mode::Raw(body) => Response::new(Body::from(body)),
                }
            }
            _ => status(404),
        }
    }
}

fn json_response(value: Value, cache_control: Option<String>) -> Response<Body> {
    let mut builder = Response::builder().header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = cache_control {
        builder = builder.header(header::CACHE_CONTROL, value);
    }
    builder
        .body(Body::from(value.to_string()))
        .expect("response")
}

fn status(code: u16) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).expect("status"))
        .body(Body::empty())
        .expect("response")
}

/// A clock the test moves by hand.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.0
            .fetch_add(u64::try_from(by.as_millis()).expect("ms"), Ordering::SeqCst);
    }

    /// A closure reading the clock, for `RemoteKeys::clock`.
    pub fn reader(&self) -> impl Fn() -> Duration + Send + Sync + 'static {
        let ms = Arc::clone(&self.0);
        move || Duration::from_millis(ms.load(Ordering::SeqCst))
    }
}
