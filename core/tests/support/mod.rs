//! A controllable identity provider on 127.0.0.1: serves discovery metadata and a JWKS,
//! and on demand fails, slows down, redirects, or returns garbage or huge bodies.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
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
pub(crate) enum Mode {
    Serve,
    Status(u16),
    Slow(Duration),
    Garbage,
    Huge(usize),
    Redirect(String),
    Raw(String),
}

/// Which metadata documents are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metadata {
    Oidc,
    Rfc8414,
    None,
    WrongIssuer,
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
#[derive(Clone)]
pub(crate) struct Idp {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    jwks_hits: Arc<AtomicU64>,
}

/// Where discovery points the JWKS (distinct from Auth0's fallback location).
pub(crate) const DISCOVERED_JWKS_PATH: &str = "/discovered/jwks.json";
pub(crate) const FALLBACK_JWKS_PATH: &str = "/.well-known/jwks.json";

impl Idp {
    pub(crate) async fn start(jwks: Value, metadata: Metadata) -> Self {
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
        };
        let handler_idp = idp.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let idp = handler_idp.clone();
            async move { idp.answer(uri).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        idp
    }

    /// `http://127.0.0.1:PORT/`, with a trailing slash as Auth0 writes issuers.
    pub(crate) fn issuer(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn set_jwks(&self, jwks: Value) {
        self.state.lock().expect("lock").jwks = jwks;
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("lock").mode = mode;
    }

    pub(crate) fn set_cache_control(&self, value: &str) {
        self.state.lock().expect("lock").cache_control = Some(value.to_owned());
    }

    /// Requests to any JWKS path.
    pub(crate) fn jwks_hits(&self) -> u64 {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    /// Requests to one path.
    pub(crate) fn hits(&self, path: &str) -> u64 {
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
#[derive(Clone, Default)]
pub(crate) struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub(crate) fn advance(&self, by: Duration) {
        self.0
            .fetch_add(u64::try_from(by.as_millis()).expect("ms"), Ordering::SeqCst);
    }

    pub(crate) fn reader(&self) -> impl Fn() -> Duration + Send + Sync + 'static {
        let ms = Arc::clone(&self.0);
        move || Duration::from_millis(ms.load(Ordering::SeqCst))
    }
}

/// Captures everything a `tracing` fmt subscriber writes, for asserting on events.
#[derive(Clone, Default)]
pub(crate) struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Installs a fmt subscriber writing here, for the current thread, until the guard drops.
    pub(crate) fn install(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Takes the lines written so far.
    pub(crate) fn take_lines(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().expect("lock"));
        String::from_utf8(bytes)
            .expect("utf8")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
