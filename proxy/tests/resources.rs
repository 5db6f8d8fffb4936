//! Resource limits through the `scopegate-proxy` binary: raw-socket clients that send
//! nothing, half an HTTP/2 preface, a head byte by byte, or stop reading; idle HTTP/1.1
//! and HTTP/2 connections; the connection limits; SIGTERM and ctrl-c with a request in
//! progress. The upstream on 127.0.0.1 records what reaches it. Configured timeouts are
//! 1–2 s, and every wait is bounded.

mod support;

use support::{ProxyBinary, RETAIL};

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use scopegate_dev_issuer::{DevIssuer, Tenant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, mpsc};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The longest any test waits for something that should happen within its 1–2 s
/// configured timeouts.
const BOUND: Duration = Duration::from_secs(10);
/// Shorter than any configured timeout: "this has not been closed yet" / "at once".
const AT_ONCE: Duration = Duration::from_millis(500);

/// An upstream on 127.0.0.1 that records each request's path and answers:
/// `/slow` once the test releases it, `/endless` with a body that never ends (and says
/// when it is dropped), anything else `ok`.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    slow_arrived: mpsc::UnboundedReceiver<()>,
    release_slow: Arc<Notify>,
    endless_dropped: mpsc::UnboundedReceiver<()>,
}

impl Upstream {
    async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (arrived_tx, slow_arrived) = mpsc::unbounded_channel();
        let (dropped_tx, endless_dropped) = mpsc::unbounded_channel();
        let release_slow = Arc::new(Notify::new());
        let (record, release) = (Arc::clone(&seen), Arc::clone(&release_slow));
        let app = axum::Router::new().fallback(move |request: Request| {
            let (record, release) = (Arc::clone(&record), Arc::clone(&release));
            let (arrived_tx, dropped_tx) = (arrived_tx.clone(), dropped_tx.clone());
            async move {
                let path = request.uri().path().to_owned();
                record.lock().expect("record").push(path.clone());
                match path.as_str() {
                    "/slow" => {
                        let released = release.notified();
                        let _ = arrived_tx.send(());
                        released.await;
                        Body::from("slow answer")
                    }
                    "/endless" => Body::new(Endless {
                        _dropped: DropSignal(dropped_tx),
                    }),
                    _ => Body::from("ok"),
                }
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Self {
            addr,
            seen,
            slow_arrived,
            release_slow,
            endless_dropped,
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("seen").clone()
    }
}

/// Says when it is dropped.
struct DropSignal(mpsc::UnboundedSender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// 64 KiB frames, forever.
struct Endless {
    _dropped: DropSignal,
}

impl hyper::body::Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b'x'; 65536])))))
    }
}

type Binary = ProxyBinary;

async fn start_binary(upstream: &Upstream, server: &str) -> Binary {
    ProxyBinary::public_route(upstream.addr, server).await
}

/// Sends `GET /slow` (which the upstream holds) through the proxy at `addr` and waits
/// until the upstream has it: a request in flight.
async fn slow_request(addr: SocketAddr, upstream: &mut Upstream) -> TcpStream {
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: proxy.test\r\n\r\n")
        .await
        .expect("write");
    tokio::time::timeout(BOUND, upstream.slow_arrived.recv())
        .await
        .expect("the slow request reached the upstream");
    slow
}

impl Binary {
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connect")
    }

    /// Sends a signal by name to the process.
    async fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = tokio::process::Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .await
            .expect("kill");
        assert!(status.success());
    }

    /// The exit status, waited for within the bound.
    async fn exit_status(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(BOUND, self.child.wait())
            .await
            .expect("the proxy exits")
            .expect("wait")
    }

    /// Connects until the connection is refused (the listener is closed), a bounded
    /// number of times.
    async fn refuses_connections(&self) -> bool {
        for _ in 0..200 {
            match TcpStream::connect(self.addr).await {
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return true;
                }
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        false
    }
}

/// Whether the peer closed `stream` (end of stream or reset) within `within`; bytes
/// sent before the close are skipped.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let drained = async {
        let mut buf = [0u8; 65536];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, drained).await.is_ok()
}

/// Reads one HTTP/1.1 response with a `content-length` body: (head, body).
async fn read_response(stream: &mut TcpStream) -> (String, String) {
    let read = async {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .expect("content-length");
                if data.len() >= end + 4 + length {
                    let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]);
                    return (head, body.into_owned());
                }
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response: {data:?}");
            data.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(BOUND, read).await.expect("a response")
}

/// An HTTP/2 frame header: (payload length, type).
async fn read_frame(stream: &mut TcpStream) -> Option<(usize, u8)> {
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).await.ok()?;
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.ok()?;
    Some((length, header[3]))
}

const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;

/// Sends the preface and empty SETTINGS, then reads frames until the connection ends
/// (answering the server's SETTINGS, never its PINGs): the frame types seen.
async fn h2_frames_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream.write_all(PREFACE).await.expect("preface");
    stream
        .write_all(&[0, 0, 0, SETTINGS, 0, 0, 0, 0, 0])
        .await
        .expect("settings");
    let mut types = Vec::new();
    let read = async {
        while let Some((_, kind)) = read_frame(stream).await {
            types.push(kind);
            if kind == SETTINGS && types.iter().filter(|&&t| t == SETTINGS).count() == 1 {
                let ack = [0, 0, 0, SETTINGS, 1, 0, 0, 0, 0];
                if stream.write_all(&ack).await.is_err() {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the connection is closed");
    types
}

const GET: &str = "GET / HTTP/1.1\r\nHost: proxy.test\r\n\r\n";

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_first_byte_timeout() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "first_byte_timeout_secs = 1").await;
    let mut silent = proxy.connect().await;
    let start = Instant::now();
    assert!(
        closed_within(&mut silent, BOUND).await,
        "a client that sends nothing is not waited for"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "not before the timeout"
    );
    // The proxy itself is fine.
    let mut client = proxy.connect().await;
    client.write_all(GET.as_bytes()).await.expect("write");
    let (head, body) = read_response(&mut client).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn half_an_http2_preface_is_closed_after_the_first_byte_timeout() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "first_byte_timeout_secs = 1").await;
    let mut halves = Vec::new();
    for sent in [&PREFACE[..1], &PREFACE[..16], &PREFACE[..23]] {
        let mut half = proxy.connect().await;
        half.write_all(sent).await.expect("write");
        halves.push((sent.len(), half));
    }
    for (sent, half) in &mut halves {
        assert!(
            closed_within(half, BOUND).await,
            "{sent} bytes of the preface"
        );
    }
    assert!(upstream.seen().is_empty());
}

#[tokio::test]
async fn a_request_head_sent_byte_by_byte_is_closed_after_the_header_read_timeout() {
    let upstream = Upstream::start().await;
    // Each byte comes well within the idle timeout; the head as a whole may take 1 s.
    let proxy = start_binary(
        &upstream,
        "header_read_timeout_secs = 1\nidle_timeout_secs = 30\nfirst_byte_timeout_secs = 30",
    )
    .await;
    let stream = proxy.connect().await;
    let (mut reader, mut writer) = stream.into_split();
    let drip = tokio::spawn(async move {
        writer.write_all(b"GET / HTTP/1.1\r\n").await?;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer.write_all(b"X-Slow: 1\r\n").await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let start = Instant::now();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(BOUND, reader.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the slow head is cut off");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "after about 1 s, before the 4 s drip ends: {elapsed:?}"
    );
    drip.abort();
    assert!(upstream.seen().is_empty());
}

#[tokio::test]
async fn an_idle_http1_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "idle_timeout_secs = 1").await;
    let mut client = proxy.connect().await;
    for _ in 0..2 {
        client.write_all(GET.as_bytes()).await.expect("write");
        let (head, body) = read_response(&mut client).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, "ok");
    }
    let idle_from = Instant::now();
    assert!(!closed_within(&mut client, AT_ONCE).await, "kept alive");
    assert!(closed_within(&mut client, BOUND).await, "then closed");
    assert!(idle_from.elapsed() >= Duration::from_millis(900));
    assert_eq!(upstream.seen(), ["/", "/"]);
}

#[tokio::test]
async fn an_idle_http2_connection_is_sent_goaway_and_closed() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(
        &upstream,
        "idle_timeout_secs = 1\nfirst_byte_timeout_secs = 1",
    )
    .await;
    let mut client = proxy.connect().await;
    let start = Instant::now();
    let frames = h2_frames_until_closed(&mut client).await;
    assert!(
        frames.contains(&GOAWAY),
        "graceful: GOAWAY first: {frames:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_http2_connection_idle_after_its_requests_is_closed() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "idle_timeout_secs = 1").await;
    let io = TokioIo::new(proxy.connect().await);
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .expect("handshake");
    let connection = tokio::spawn(connection);
    for _ in 0..2 {
        let request = http::Request::get(format!("http://{}/", proxy.addr))
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), 200);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"ok");
    }
    let idle_from = Instant::now();
    let ended = tokio::time::timeout(BOUND, connection).await;
    assert!(ended.is_ok(), "the server closed the idle connection");
    assert!(idle_from.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_http2_client_that_does_not_answer_pings_is_disconnected() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(
        &upstream,
        "h2_keep_alive_interval_secs = 1\nh2_keep_alive_timeout_secs = 1\nidle_timeout_secs = 60",
    )
    .await;
    let mut client = proxy.connect().await;
    let frames = h2_frames_until_closed(&mut client).await;
    assert!(frames.contains(&PING), "pinged: {frames:?}");
}

#[tokio::test]
async fn at_the_connection_limit_a_new_client_is_served_once_idle_ones_time_out() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(
        &upstream,
        "max_connections = 4\nfirst_byte_timeout_secs = 1",
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(proxy.connect().await);
    }
    let start = Instant::now();
    let mut fifth = proxy.connect().await;
    fifth.write_all(GET.as_bytes()).await.expect("write");
    let (head, body) = read_response(&mut fifth).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "ok");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "the fifth waited for a slot: {:?}",
        start.elapsed()
    );
    for socket in &mut idle {
        assert!(
            closed_within(socket, AT_ONCE).await,
            "the idle ones were closed first"
        );
    }
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(
        &upstream,
        "max_connections = 10\nmax_connections_per_ip = 2\nfirst_byte_timeout_secs = 5",
    )
    .await;
    let _held = [proxy.connect().await, proxy.connect().await];
    let mut third = proxy.connect().await;
    assert!(
        closed_within(&mut third, Duration::from_secs(2)).await,
        "a third from 127.0.0.1 is closed on accept, long before the first-byte timeout"
    );
    // Another client address (loopback is a /8) is served at once.
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.2:0".parse().expect("address"))
        .expect("bind 127.0.0.2");
    let mut other = socket.connect(proxy.addr).await.expect("connect");
    other.write_all(GET.as_bytes()).await.expect("write");
    let (head, body) = tokio::time::timeout(Duration::from_secs(2), read_response(&mut other))
        .await
        .expect("served at once");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn a_client_that_reads_nothing_is_cut_after_the_send_timeout() {
    let mut upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "send_timeout_secs = 1").await;
    let mut client = proxy.connect().await;
    client
        .write_all(b"GET /endless HTTP/1.1\r\nHost: proxy.test\r\n\r\n")
        .await
        .expect("write");
    // The client never reads: once the buffers are full the proxy's writes wait, and
    // after the send timeout it gives up the connection and the upstream's answer.
    let dropped = tokio::time::timeout(BOUND, upstream.endless_dropped.recv()).await;
    assert!(dropped.is_ok(), "the stalled response was abandoned");
    assert!(closed_within(&mut client, BOUND).await);
}

#[tokio::test]
async fn sigterm_lets_the_request_in_progress_finish_refuses_new_ones_and_exits_0() {
    let mut upstream = Upstream::start().await;
    let mut proxy = start_binary(&upstream, "drain_timeout_secs = 10").await;

    // An idle keep-alive connection, and a request the upstream holds.
    let mut idle = proxy.connect().await;
    idle.write_all(GET.as_bytes()).await.expect("write");
    read_response(&mut idle).await;
    let mut slow = slow_request(proxy.addr, &mut upstream).await;

    proxy.signal("TERM").await;
    assert!(proxy.refuses_connections().await, "the listener is closed");
    assert!(
        closed_within(&mut idle, BOUND).await,
        "idle connections are closed at once"
    );
    assert!(
        proxy.child.try_wait().expect("try_wait").is_none(),
        "still draining"
    );

    upstream.release_slow.notify_one();
    let (head, body) = read_response(&mut slow).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert_eq!(body, "slow answer", "the upstream's answer, complete");
    let status = proxy.exit_status().await;
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn ctrl_c_drains_too_and_the_drain_timeout_bounds_it() {
    let mut upstream = Upstream::start().await;
    let mut proxy = start_binary(&upstream, "drain_timeout_secs = 1").await;
    let mut slow = slow_request(proxy.addr, &mut upstream).await;
    let start = Instant::now();
    proxy.signal("INT").await;
    // The upstream never answers: the drain timeout ends the wait, the request is cut.
    let status = proxy.exit_status().await;
    assert!(status.success(), "exit status {status:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "it waited for the request"
    );
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(BOUND, slow.read_to_end(&mut answer)).await;
    assert!(answer.is_empty(), "no answer was made up");
}

#[tokio::test]
async fn a_second_signal_while_draining_exits_at_once() {
    let mut upstream = Upstream::start().await;
    let mut proxy = start_binary(&upstream, "drain_timeout_secs = 60").await;
    let _slow = slow_request(proxy.addr, &mut upstream).await;
    proxy.signal("TERM").await;
    assert!(proxy.refuses_connections().await, "draining");
    assert!(
        proxy.child.try_wait().expect("try_wait").is_none(),
        "the first signal drains"
    );
    proxy.signal("INT").await;
    let status = proxy.exit_status().await;
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn the_library_reports_how_the_drain_ended() {
    let mut upstream = Upstream::start().await;
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    let config: scopegate_proxy::ProxyConfig = toml::from_str(&format!(
        r#"
        [issuer]
        url = "{issuer}"
        audience = "{RETAIL}"
        [server]
        drain_timeout_secs = 1
        [[route]]
        prefix = "/"
        upstream = "http://{upstream}"
        public = true
        "#,
        issuer = issuer.issuer(),
        upstream = upstream.addr,
    ))
    .expect("config");
    let serve = |stop: tokio::sync::oneshot::Receiver<()>| {
        let config = config.clone();
        async move {
            let verifier = config.verifier().expect("verifier").expect("[issuer]");
            let proxy = scopegate_proxy::Proxy::new(&config, verifier).expect("proxy");
            let limits = scopegate_proxy::ServerLimits::from_config(&config).expect("limits");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let stop = async move {
                let _ = stop.await;
            };
            let drained = tokio::spawn(scopegate_proxy::serve_with_shutdown(
                listener, proxy, limits, stop,
            ));
            (addr, drained)
        }
    };

    // Nothing in progress: complete at once.
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, drained) = serve(stopped).await;
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(GET.as_bytes()).await.expect("write");
    read_response(&mut idle).await;
    stop.send(()).expect("stop");
    let drained = tokio::time::timeout(AT_ONCE, drained).await;
    assert_eq!(
        drained.expect("at once").expect("task"),
        scopegate_proxy::Drain::Complete
    );

    // A request the upstream never answers: cut after the drain timeout.
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, drained) = serve(stopped).await;
    let mut slow = slow_request(addr, &mut upstream).await;
    stop.send(()).expect("stop");
    let drained = tokio::time::timeout(BOUND, drained).await;
    assert_eq!(
        drained.expect("within the drain timeout").expect("task"),
        scopegate_proxy::Drain::TimedOut {
            open_connections: 1
        }
    );
    assert!(closed_within(&mut slow, BOUND).await, "the request was cut");
}
