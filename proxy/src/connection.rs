//! One client connection from accept to close: its protocol told within the first-byte
//! timeout, then HTTP/1.1 (with upgrades) or HTTP/2 under the idle and header-read
//! deadlines, closed gracefully when the server drains and cut when it gives up.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::activity::{Activity, Protocol, TrackedBody};
use crate::client_stream::ClientStream;
use crate::limits::ServerLimits;
use crate::proxy::Proxy;
use crate::slots::Slot;
use crate::sniff::sniff;
use crate::stream_stall::StreamExecutor;

/// What the server asks of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ServerPhase {
    /// Serve as usual.
    Serving,
    /// Finish the requests in progress, take no more, close.
    Draining,
    /// Close now.
    Cut,
}

/// The HTTP/1.1 and HTTP/2 settings every connection shares.
#[derive(Debug)]
pub(crate) struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<StreamExecutor>,
}

impl Protocols {
    pub(crate) fn new(limits: &ServerLimits) -> Self {
        let mut http1 = http1::Builder::new();
        // The idle and header-read deadlines are kept by `drive`; hyper's own header
        // timer (which starts whenever the connection goes idle) only backs it up.
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.idle_timeout + limits.header_read_timeout);
        // Each stream runs as its own task under the send timeout (see `stream_stall`).
        let mut http2 = http2::Builder::new(StreamExecutor::new(limits.send_timeout));
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.h2_max_concurrent_streams)
            .keep_alive_interval(limits.h2_keep_alive_interval)
            .keep_alive_timeout(limits.h2_keep_alive_timeout);
        Self { http1, http2 }
    }
}

/// Everything a connection needs from its server.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionContext {
    pub(crate) proxy: Proxy,
    pub(crate) limits: Arc<ServerLimits>,
    pub(crate) protocols: Arc<Protocols>,
    pub(crate) phase: watch::Receiver<ServerPhase>,
    /// Held for as long as the connection's task runs.
    pub(crate) running: mpsc::Sender<Infallible>,
}

/// Serves one accepted connection until it closes; `slot` is held until then.
pub(crate) async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    context: ConnectionContext,
) {
    let ConnectionContext {
        proxy,
        limits,
        protocols,
        mut phase,
        running: _running,
    } = context;
    let sniffing = tokio::time::timeout(limits.first_byte_timeout, sniff(&mut stream));
    let sniffed = tokio::select! {
        sniffed = sniffing => sniffed,
        () = reached(&mut phase, ServerPhase::Draining) => return,
    };
    // Nothing within the first-byte timeout, half a preface, or gone: close.
    let Ok(Ok((protocol, sniffed))) = sniffed else {
        return;
    };
    let activity = Activity::new(protocol);
    let io = TokioIo::new(ClientStream::new(
        stream,
        sniffed,
        Arc::clone(&activity),
        limits.send_timeout,
        slot,
    ));
    let requests = Arc::clone(&activity);
    let service = service_fn(move |request| {
        let guard = requests.request_started();
        let proxy = proxy.clone();
        async move {
            let response = proxy.handle(request, peer).await?;
            Ok::<_, Infallible>(response.map(|body| TrackedBody::new(body, guard)))
        }
    });
    match protocol {
        Protocol::Http1 => {
            let connection = protocols
                .http1
                .serve_connection(io, service)
                .with_upgrades();
            drive(
                connection,
                |connection| connection.graceful_shutdown(),
                protocol,
                &activity,
                &limits,
                phase,
            )
            .await;
        }
        Protocol::Http2 => {
            let connection = protocols.http2.serve_connection(io, service);
            drive(
                connection,
                |connection| connection.graceful_shutdown(),
                protocol,
                &activity,
                &limits,
                phase,
            )
            .await;
        }
    }
}

/// Runs `connection` until it ends.
///
/// Past its idle or header-read deadline (no request in progress) an HTTP/1.1
/// connection is dropped (hyper's graceful close would wait for a head in progress) and
/// an HTTP/2 one sent GOAWAY. When the server drains, an HTTP/1.1 connection with no
/// request in progress is dropped, others are asked to close gracefully (HTTP/1.1: after
/// the response in progress; HTTP/2: GOAWAY, open streams finish). A connection still
/// open and idle the first-byte timeout after that, or when the server cuts, is dropped.
async fn drive<C>(
    connection: C,
    close_gracefully: impl Fn(Pin<&mut C>),
    protocol: Protocol,
    activity: &Activity,
    limits: &ServerLimits,
    mut phase: watch::Receiver<ServerPhase>,
) where
    C: Future,
{
    let idle = limits.idle_timeout;
    let header = limits.header_read_timeout;
    let grace = limits.first_byte_timeout;
    tokio::pin!(connection);
    let mut closing_since: Option<Instant> = None;
    let mut server_alive = true;
    let wake = tokio::time::sleep_until(Instant::now());
    tokio::pin!(wake);
    let mut draining = *phase.borrow_and_update() != ServerPhase::Serving;
    loop {
        if draining && closing_since.is_none() {
            if protocol == Protocol::Http1 && !activity.busy() {
                return;
            }
            close_gracefully(connection.as_mut());
            closing_since = Some(Instant::now());
        }
        let now = Instant::now();
        let next = match closing_since {
            None => activity
                .deadline(idle, header)
                .unwrap_or(now + idle.min(header)),
            Some(since) => activity
                .idle_since()
                .map_or(now + grace, |idle_since| idle_since.max(since) + grace),
        };
        wake.as_mut().reset(next);
        tokio::select! {
            _ = connection.as_mut() => return,
            () = &mut wake => {
                let now = Instant::now();
                match closing_since {
                    None => {
                        if activity.deadline(idle, header).is_some_and(|due| due <= now) {
                            if protocol == Protocol::Http1 {
                                return;
                            }
                            close_gracefully(connection.as_mut());
                            closing_since = Some(now);
                        }
                    }
                    Some(since) => {
                        let idle_since = activity.idle_since();
                        if idle_since.is_some_and(|idle_since| idle_since.max(since) + grace <= now) {
                            return;
                        }
                    }
                }
            }
            // A request head began: its deadline may come before the idle one.
            () = activity.head_begun(), if closing_since.is_none() => {}
            changed = phase.changed(), if server_alive => {
                if changed.is_err() {
                    // The server was dropped without draining: keep serving.
                    server_alive = false;
                    continue;
                }
                let current = *phase.borrow_and_update();
                match current {
                    ServerPhase::Serving => {}
                    ServerPhase::Draining => draining = true,
                    ServerPhase::Cut => return,
                }
            }
        }
    }
}

/// Resolves once the server reaches `phase`; never if the server is gone.
async fn reached(phase: &mut watch::Receiver<ServerPhase>, wanted: ServerPhase) {
    if phase.wait_for(|current| *current >= wanted).await.is_err() {
        std::future::pending::<()>().await;
    }
}
