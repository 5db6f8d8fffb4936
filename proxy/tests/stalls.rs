//! HTTP/2 clients that hold upstream connections, through the `scopegate-proxy` binary:
//! a stream whose client gives it no flow-control window (it answers PINGs, so the
//! connection is alive and never idle), many streams from one address, the stream limit
//! the proxy announces. The upstream on 127.0.0.1 is a raw socket server that records
//! each request and when its connection is closed. Configured timeouts are 1 s, and
//! every wait is bounded.

mod support;

use support::ProxyBinary;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The longest any test waits for something that should happen within its 1 s
/// configured timeouts.
const BOUND: Duration = Duration::from_secs(10);

/// What the upstream saw.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A request for this path arrived.
    Request(String),
    /// The proxy closed the connection that carried a request for this path.
    Closed(String),
}

/// A raw HTTP/1.1 upstream on 127.0.0.1. `/big`: a 1 MiB response of which the first
/// 32 KiB are sent at once and the rest never; `/slow`: `ok` once the test releases it;
/// `/pause`: 1000 bytes, then 1000 more two seconds later; anything else: an empty 200.
/// Each request and each closed connection is told.
struct Upstream {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    release: watch::Sender<bool>,
}

impl Upstream {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tell, seen) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_upstream(stream, tell.clone(), released.clone()));
            }
        });
        Self {
            addr,
            seen,
            release,
        }
    }

    /// The next thing the upstream saw, within the bound.
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(BOUND, self.seen.recv())
            .await
            .expect("the upstream sees something in time")
            .expect("the upstream runs")
    }
}

async fn serve_upstream(
    mut stream: TcpStream,
    tell: mpsc::UnboundedSender<Seen>,
    mut released: watch::Receiver<bool>,
) {
    let mut last_path = String::new();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // One request head (the proxy sends no bodies here), then the answer.
        let head_end = loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tell.send(Seen::Closed(last_path));
                    return;
                }
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
        data.drain(..head_end + 4);
        let path = head.split(' ').nth(1).expect("request target").to_owned();
        let _ = tell.send(Seen::Request(path.clone()));
        let answered = match path.as_str() {
            "/big" => {
                let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 1048576\r\n\r\n".to_vec();
                answer.extend_from_slice(&[b'x'; 32 * 1024]);
                stream.write_all(&answer).await
            }
            "/slow" => {
                let _ = released.wait_for(|released| *released).await;
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
            }
            "/pause" => {
                let mut first = b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n".to_vec();
                first.extend_from_slice(&[b'a'; 1000]);
                let sent = stream.write_all(&first).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
                match sent {
                    Ok(()) => stream.write_all(&[b'b'; 1000]).await,
                    error => error,
                }
            }
            _ => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await
            }
        };
        last_path = path;
        if answered.is_err() {
            let _ = tell.send(Seen::Closed(last_path));
            return;
        }
    }
}

async fn start_binary(upstream: &Upstream, server: &str) -> ProxyBinary {
    ProxyBinary::public_route(upstream.addr, server).await
}

/// An HTTP/2 client (h2, which answers PINGs and SETTINGS) on a connection from
/// `local` to the proxy, announcing `window` as every stream's initial flow-control
/// window.
async fn h2_client(
    proxy: &ProxyBinary,
    local: &str,
    window: u32,
) -> h2::client::SendRequest<Bytes> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{local}:0").parse().expect("local address"))
        .expect("bind");
    let tcp = socket.connect(proxy.addr).await.expect("connect");
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(window)
        .handshake(tcp)
        .await
        .expect("handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Sends `GET path` on its own stream once one is free: the response to come.
async fn send(
    client: &mut h2::client::SendRequest<Bytes>,
    path: &str,
) -> h2::client::ResponseFuture {
    let request = Request::get(format!("http://proxy.test{path}"))
        .body(())
        .expect("request");
    let ready = tokio::time::timeout(BOUND, client.clone().ready())
        .await
        .expect("a stream is free in time")
        .expect("the connection is open");
    *client = ready;
    let (response, _) = client.send_request(request, true).expect("send");
    response
}

/// Sends `GET path` on its own stream: the response's head and body, within the bound.
async fn get(
    client: &mut h2::client::SendRequest<Bytes>,
    path: &str,
) -> http::Response<h2::RecvStream> {
    let response = send(client, path).await;
    tokio::time::timeout(BOUND, response)
        .await
        .expect("a response in time")
        .expect("a response")
}

/// The whole body, within the bound.
async fn read_body(body: &mut h2::RecvStream) -> Result<Vec<u8>, h2::Error> {
    let read = async {
        let mut data = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the body ends in time")
}

#[tokio::test]
async fn a_stream_its_client_gives_no_window_is_reset_and_its_upstream_closed() {
    let mut upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "send_timeout_secs = 1\nidle_timeout_secs = 60").await;
    let mut client = h2_client(&proxy, "127.0.0.1", 0).await;

    let start = Instant::now();
    let response = get(&mut client, "/big").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(upstream.next().await, Seen::Request("/big".into()));
    // The client answers PINGs but never opens the stream's window: the proxy holds the
    // first piece of the body and waits. After the send timeout the stream is reset...
    let error = read_body(&mut response.into_body())
        .await
        .expect_err("the stream is reset");
    assert_eq!(error.reason(), Some(h2::Reason::CANCEL), "{error}");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "not before the send timeout"
    );
    // ...and the upstream's connection, which held the rest of the response, closed.
    assert_eq!(upstream.next().await, Seen::Closed("/big".into()));
    // The connection and its other streams go on.
    let response = get(&mut client, "/empty").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().is_end_stream());
}

#[tokio::test]
async fn a_body_the_upstream_is_slow_to_send_is_not_the_clients_stall() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "send_timeout_secs = 1").await;
    let mut client = h2_client(&proxy, "127.0.0.1", 65_535).await;
    let response = get(&mut client, "/pause").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = read_body(&mut response.into_body())
        .await
        .expect("the whole body, two seconds apart");
    assert_eq!(body.len(), 2000);
    assert_eq!(&body[1999..], b"b");
}

#[tokio::test]
async fn one_address_cannot_hold_more_upstream_requests_than_its_share() {
    let mut upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "max_upstream_requests_per_ip = 2").await;
    let mut client = h2_client(&proxy, "127.0.0.1", 65_535).await;

    // Two requests held by the upstream: the address's share.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(send(&mut client, "/slow").await);
        assert_eq!(upstream.next().await, Seen::Request("/slow".into()));
    }
    // A third from the same address is refused without reaching the upstream...
    let refused = get(&mut client, "/slow").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    // ...on a new connection too, while another address is served.
    let mut other_connection = h2_client(&proxy, "127.0.0.1", 65_535).await;
    let refused = get(&mut other_connection, "/empty").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let mut other_address = h2_client(&proxy, "127.0.0.2", 65_535).await;
    let served = get(&mut other_address, "/empty").await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(upstream.next().await, Seen::Request("/empty".into()));

    // Once the held responses are through, the address has its share again.
    upstream.release.send_replace(true);
    for response in held {
        let response = tokio::time::timeout(BOUND, response)
            .await
            .expect("answered")
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            read_body(&mut response.into_body()).await.expect("body"),
            b"ok"
        );
    }
    let served = get(&mut client, "/empty").await;
    assert_eq!(served.status(), StatusCode::OK);
}

/// The server's `SETTINGS_MAX_CONCURRENT_STREAMS`, from its first SETTINGS frame.
async fn announced_max_streams(proxy: &ProxyBinary) -> Option<u32> {
    let mut stream = TcpStream::connect(proxy.addr).await.expect("connect");
    stream.write_all(PREFACE).await.expect("preface");
    stream
        .write_all(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0])
        .await
        .expect("settings");
    let read = async {
        let mut header = [0u8; 9];
        stream.read_exact(&mut header).await.expect("frame header");
        assert_eq!(header[3], 0x4, "the server's first frame is SETTINGS");
        let length =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let mut payload = vec![0u8; length];
        stream.read_exact(&mut payload).await.expect("payload");
        payload.chunks_exact(6).find_map(|setting| {
            (setting[..2] == [0, 3])
                .then(|| u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]))
        })
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("settings in time")
}

#[tokio::test]
async fn http2_streams_per_connection_are_capped_at_100_or_as_configured() {
    let upstream = Upstream::start().await;
    let proxy = start_binary(&upstream, "").await;
    assert_eq!(announced_max_streams(&proxy).await, Some(100));
    let proxy = start_binary(&upstream, "h2_max_concurrent_streams = 7").await;
    assert_eq!(announced_max_streams(&proxy).await, Some(7));
}
