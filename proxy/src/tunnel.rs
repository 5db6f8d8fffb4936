//! An upgraded connection's bytes, copied both ways until one side closes, the token
//! that authorized it expires, or nothing has moved for the idle time.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// How long a tunnel may live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TunnelLimits {
    /// Closed after this long with no byte read from either side.
    pub(crate) idle: Duration,
    /// Closed at this instant (the authorizing token's expiry), if any.
    pub(crate) until: Option<Instant>,
}

impl TunnelLimits {
    /// Limits for a tunnel authorized by a token expiring at `expires_at` (seconds
    /// since the Unix epoch), or by no token.
    pub(crate) fn new(idle: Duration, expires_at: Option<u64>) -> Self {
        let until = expires_at.map(|exp| {
            let expiry = UNIX_EPOCH + Duration::from_secs(exp);
            let left = expiry
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            Instant::now() + left
        });
        Self { idle, until }
    }
}

/// Copies between `client` and `upstream` within `limits`; both are dropped (closed)
/// when it returns.
pub(crate) async fn relay<C, U>(client: C, upstream: U, limits: TunnelLimits)
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let last_read = Arc::new(AtomicU64::new(0));
    let mut client = Watched::new(client, start, &last_read);
    let mut upstream = Watched::new(upstream, start, &last_read);
    let copy = tokio::io::copy_bidirectional(&mut client, &mut upstream);
    tokio::pin!(copy);
    loop {
        let idle_end =
            start + Duration::from_millis(last_read.load(Ordering::Relaxed)) + limits.idle;
        let wake = limits.until.map_or(idle_end, |until| until.min(idle_end));
        tokio::select! {
            _ = &mut copy => return,
            () = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                let idle_end = start
                    + Duration::from_millis(last_read.load(Ordering::Relaxed))
                    + limits.idle;
                if limits.until.is_some_and(|until| now >= until) || now >= idle_end {
                    return;
                }
            }
        }
    }
}

/// A stream that notes when it last delivered bytes (milliseconds since `start`).
struct Watched<S> {
    inner: S,
    start: Instant,
    last_read: Arc<AtomicU64>,
}

impl<S> Watched<S> {
    fn new(inner: S, start: Instant, last_read: &Arc<AtomicU64>) -> Self {
        Self {
            inner,
            start,
            last_read: Arc::clone(last_read),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_read.store(elapsed, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

    use super::*;

    /// A tunnel between two in-memory pipes: returns the client's and the upstream's
    /// far ends.
    fn tunnel(limits: TunnelLimits) -> (DuplexStream, DuplexStream) {
        let (client, client_end) = duplex(64);
        let (upstream, upstream_end) = duplex(64);
        tokio::spawn(relay(client_end, upstream_end, limits));
        (client, upstream)
    }

    /// Whether `stream` has been closed (reads end of stream).
    async fn closed(stream: &mut DuplexStream) -> bool {
        let mut byte = [0u8; 1];
        matches!(stream.read(&mut byte).await, Ok(0) | Err(_))
    }

    async fn round_trip(client: &mut DuplexStream, upstream: &mut DuplexStream) {
        client.write_all(b"ping").await.expect("write");
        let mut got = [0u8; 4];
        upstream.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ping");
        upstream.write_all(b"pong").await.expect("write");
        client.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"pong");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_tunnel_is_closed_after_the_idle_time_and_traffic_keeps_it_open() {
        let idle = Duration::from_secs(300);
        let (mut client, mut upstream) = tunnel(TunnelLimits { idle, until: None });
        let start = Instant::now();
        // Traffic every 200 s: still open after 1000 s.
        for _ in 0..5 {
            round_trip(&mut client, &mut upstream).await;
            tokio::time::sleep(Duration::from_secs(200)).await;
        }
        round_trip(&mut client, &mut upstream).await;
        let last = Instant::now();
        assert!(last - start >= Duration::from_secs(1000));
        assert!(closed(&mut client).await);
        assert!(closed(&mut upstream).await);
        let idle_for = Instant::now() - last;
        assert!(
            idle_for >= idle && idle_for < idle + Duration::from_secs(1),
            "{idle_for:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_tunnel_ends_when_its_token_expires_even_with_traffic() {
        let start = Instant::now();
        let until = start + Duration::from_secs(90);
        let (mut client, mut upstream) = tunnel(TunnelLimits {
            idle: Duration::from_secs(300),
            until: Some(until),
        });
        for _ in 0..8 {
            round_trip(&mut client, &mut upstream).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        assert!(closed(&mut client).await);
        let lived = Instant::now() - start;
        assert!(
            lived >= Duration::from_secs(90) && lived < Duration::from_secs(91),
            "{lived:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_token_closes_at_once_and_a_far_expiry_does_not_shorten_idle() {
        let past = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            - 10;
        let limits = TunnelLimits::new(Duration::from_secs(300), Some(past));
        let start = Instant::now();
        let (mut client, _upstream) = tunnel(limits);
        assert!(closed(&mut client).await);
        assert!(Instant::now() - start < Duration::from_secs(1));

        let limits = TunnelLimits::new(Duration::from_secs(5), Some(past + 10 + 3600));
        assert!(
            limits
                .until
                .is_some_and(|until| until - start > Duration::from_secs(3500))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_side_closing_ends_the_tunnel() {
        let (mut client, upstream) = tunnel(TunnelLimits {
            idle: Duration::from_secs(300),
            until: None,
        });
        drop(upstream);
        assert!(closed(&mut client).await);
    }
}
