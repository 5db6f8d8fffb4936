//! Accepting connections: HTTP/1.1 (with upgrades) and HTTP/2 on one listener, within
//! the connection limits, until shutdown; then draining.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::connection::{ConnectionContext, Protocols, ServerPhase, serve_connection};
use crate::limits::ServerLimits;
use crate::proxy::Proxy;
use crate::slots::ConnectionSlots;

/// How long connection tasks get to drop their connections once cut.
const CUT_WAIT: Duration = Duration::from_secs(1);

/// How a shutdown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Drain {
    /// Every connection closed within the drain timeout.
    Complete,
    /// The drain timeout passed; these connections were still open and were cut
    /// (WebSocket tunnels among them are left to end on their own).
    TimedOut {
        /// Connections open when the drain timeout passed.
        open_connections: u32,
    },
}

/// Serves `proxy` on `listener` with the default [`ServerLimits`] until the task is
/// dropped. See [`serve_with_shutdown`] for the limits, timeouts and a graceful stop.
pub async fn serve(listener: TcpListener, proxy: Proxy) {
    let _ = serve_with_shutdown(
        listener,
        proxy,
        ServerLimits::default(),
        std::future::pending(),
    )
    .await;
}

/// Serves `proxy` on `listener` until `shutdown` completes, then drains.
///
/// - At most `max_connections` client connections are open at once: at the limit the
///   listener is not accepted from until one closes (new clients wait in the kernel's
///   backlog), and at most `max_connections_per_ip` come from one address (more are
///   closed on accept), so idle or slow clients give their slots back within the
///   timeouts below and one address cannot hold them all.
/// - A connection whose first bytes (for HTTP/2, the whole preface) do not arrive within
///   the first-byte timeout is closed; so is an HTTP/1.1 request head not complete
///   within the header-read timeout of its first byte, a connection idle for the idle
///   timeout (HTTP/2: no open stream; sent GOAWAY), a client that reads nothing of a
///   response for the send timeout, and an HTTP/2 client that does not answer a PING.
///   An HTTP/2 stream whose client takes none of its response for the send timeout (it
///   gives the stream no flow-control window) is reset, and the upstream's response
///   dropped; at most `h2_max_concurrent_streams` streams are open per connection.
/// - When `shutdown` completes the listener is closed (new connections are refused),
///   every connection is asked to close after the request in progress (HTTP/1.1) or
///   sent GOAWAY (HTTP/2), and this returns once all are closed or the drain timeout
///   has passed, whichever comes first; connections still open then are cut.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use scopegate_proxy::{Drain, Proxy, ProxyConfig, ServerLimits};
///
/// let config = ProxyConfig::from_file("proxy.toml".as_ref())?;
/// let verifier = config.verifier()?.expect("an [issuer] section");
/// let proxy = Proxy::new(&config, verifier)?;
/// let limits = ServerLimits::from_config(&config)?;
/// let listener = tokio::net::TcpListener::bind(config.listen).await?;
/// let ctrl_c = async {
///     let _ = tokio::signal::ctrl_c().await;
/// };
/// if let Drain::TimedOut { open_connections } =
///     scopegate_proxy::serve_with_shutdown(listener, proxy, limits, ctrl_c).await
/// {
///     eprintln!("{open_connections} connections cut");
/// }
/// # Ok(())
/// # }
/// ```
pub async fn serve_with_shutdown<F>(
    listener: TcpListener,
    proxy: Proxy,
    limits: ServerLimits,
    shutdown: F,
) -> Drain
where
    F: Future<Output = ()>,
{
    let slots = ConnectionSlots::new(
        limits.max_connections,
        limits.max_connections_per_ip,
        limits.unlimited_peers.clone(),
    );
    let (phase, phase_watch) = watch::channel(ServerPhase::Serving);
    let (running, mut tasks) = mpsc::channel(1);
    let drain_timeout = limits.drain_timeout;
    let context = ConnectionContext {
        proxy,
        protocols: Arc::new(Protocols::new(&limits)),
        limits: Arc::new(limits),
        phase: phase_watch,
        running,
    };
    let refused = RefusalLog::default();
    tokio::pin!(shutdown);
    loop {
        // At the limit, stop accepting until a connection closes.
        let free = tokio::select! {
            free = slots.free_slot() => free,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(target: "scopegate::proxy", %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = slots.claim(free, peer.ip()) else {
            refused.note(peer.ip());
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, peer, slot, context.clone()));
    }
    // Refuse new connections from now on.
    drop(listener);
    tracing::info!(
        target: "scopegate::proxy",
        open_connections = slots.open(),
        "shutting down: draining connections"
    );
    let _ = phase.send(ServerPhase::Draining);
    if tokio::time::timeout(drain_timeout, slots.all_closed())
        .await
        .is_ok()
    {
        return Drain::Complete;
    }
    let open_connections = slots.open();
    let _ = phase.send(ServerPhase::Cut);
    // Each connection task drops its connection as soon as it sees the cut; wait for
    // that (briefly) so none answers after this returns.
    drop(context);
    let _ = tokio::time::timeout(CUT_WAIT, tasks.recv()).await;
    Drain::TimedOut { open_connections }
}

/// Says, at most once a minute, that connections were closed for their address's limit.
#[derive(Debug, Default)]
struct RefusalLog {
    last_minute: AtomicU64,
}

impl RefusalLog {
    fn note(&self, peer: std::net::IpAddr) {
        let minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() / 60);
        if self.last_minute.swap(minute, Ordering::Relaxed) != minute {
            tracing::warn!(
                target: "scopegate::proxy",
                %peer,
                "connections closed on accept: an address reached max_connections_per_ip (list proxies in front in trusted_proxies)"
            );
        }
    }
}
