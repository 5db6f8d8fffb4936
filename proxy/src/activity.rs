//! What one client connection is doing, for its idle and header-read deadlines: requests
//! in progress, since when it has been idle, when the next request head began; and, on
//! HTTP/2, how each response's body progresses, for its stream's send deadline.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::proxy::ProxyBody;
use crate::stream_stall::{StreamProgress, next_piece};

/// The protocol a connection speaks, which decides what counts as activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP/1.1: bytes received while idle begin a request head.
    Http1,
    /// HTTP/2 (prior knowledge): only open streams count; PINGs and SETTINGS do not.
    Http2,
}

/// Shared by the connection's reader, its requests and its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    protocol: Protocol,
    /// Times below are milliseconds since this instant.
    base: Instant,
    /// Requests (HTTP/2: streams) whose response has not been sent completely.
    in_flight: AtomicUsize,
    /// When the last request in progress ended (or the connection began).
    idle_since: AtomicU64,
    /// HTTP/1.1: one more than when the first byte after going idle arrived; 0: none yet.
    head_started: AtomicU64,
    /// Told when a head begins, which can bring the deadline forward.
    head_begun: Notify,
}

impl Activity {
    /// A connection that begins now, idle.
    pub(crate) fn new(protocol: Protocol) -> Arc<Self> {
        Arc::new(Self {
            protocol,
            base: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            head_begun: Notify::new(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, millis: u64) -> Instant {
        self.base + Duration::from_millis(millis)
    }

    /// Bytes arrived from the client. On an idle HTTP/1.1 connection they begin the
    /// next request head.
    pub(crate) fn bytes_received(&self) {
        if self.protocol == Protocol::Http1
            && self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started.load(Ordering::Relaxed) == 0
        {
            self.head_started
                .store(self.now().saturating_add(1), Ordering::Relaxed);
            self.head_begun.notify_one();
        }
    }

    /// Resolves when a request head has begun since the last call (HTTP/1.1).
    pub(crate) async fn head_begun(&self) {
        self.head_begun.notified().await;
    }

    /// A request (its head complete) is being answered until the guard is dropped.
    pub(crate) fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Relaxed);
        RequestGuard(Arc::clone(self))
    }

    /// Whether a request is in progress.
    pub(crate) fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// When the connection has been idle since (no request in progress); `None` while
    /// one is.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        (!self.busy()).then(|| self.at(self.idle_since.load(Ordering::Acquire)))
    }

    /// When the connection is to be closed if nothing changes: `idle_timeout` after it
    /// went idle or, for HTTP/1.1 once a request head began, `header_read_timeout` after
    /// that. `None` while a request is in progress.
    pub(crate) fn deadline(
        &self,
        idle_timeout: Duration,
        header_read_timeout: Duration,
    ) -> Option<Instant> {
        let idle_since = self.idle_since()?;
        match self.head_started.load(Ordering::Relaxed) {
            0 => Some(idle_since + idle_timeout),
            started => Some(self.at(started - 1).max(idle_since) + header_read_timeout),
        }
    }
}

/// Keeps its request counted as in progress; dropped when the response has been sent
/// (or abandoned).
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.idle_since.store(activity.now(), Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted until it has been sent or dropped.
///
/// On HTTP/2 it also tells its stream's [`StreamProgress`] of each poll, and hands data
/// out in pieces of at most [`PIECE`](crate::stream_stall::PIECE) bytes, so that a
/// client taking less than that within the send timeout has its stream reset.
#[derive(Debug)]
pub(crate) struct TrackedBody {
    body: ProxyBody,
    /// HTTP/2: the stream's progress; `None` on HTTP/1.1.
    progress: Option<Arc<StreamProgress>>,
    /// The part of the last data frame not handed out yet.
    rest: Bytes,
    _guard: RequestGuard,
}

impl TrackedBody {
    /// `body`, counting its request as in progress until it ends. Created inside an
    /// HTTP/2 stream's task, it reports to that stream's progress.
    pub(crate) fn new(body: ProxyBody, guard: RequestGuard) -> Self {
        Self {
            body,
            progress: StreamProgress::current(),
            rest: Bytes::new(),
            _guard: guard,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(progress) = &this.progress else {
            return Pin::new(&mut this.body).poll_frame(cx);
        };
        let frame = if this.rest.is_empty() {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(mut data) => {
                        let piece = next_piece(&mut data);
                        this.rest = data;
                        Poll::Ready(Some(Ok(Frame::data(piece))))
                    }
                    Err(other) => Poll::Ready(Some(Ok(other))),
                },
                other => other,
            }
        } else {
            Poll::Ready(Some(Ok(Frame::data(next_piece(&mut this.rest)))))
        };
        progress.polled(matches!(frame, Poll::Ready(Some(Ok(_)))));
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.body.size_hint();
        let rest = self.rest.len() as u64;
        if rest > 0 {
            if let Some(upper) = hint.upper() {
                hint.set_upper(upper.saturating_add(rest));
            }
            hint.set_lower(hint.lower().saturating_add(rest));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::stream_stall::{PIECE, Watched};

    const IDLE: Duration = Duration::from_secs(75);
    const HEAD: Duration = Duration::from_secs(30);

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_due_idle_timeout_after_its_last_response() {
        let activity = Activity::new(Protocol::Http1);
        let start = Instant::now();
        assert_eq!(activity.deadline(IDLE, HEAD), Some(start + IDLE));

        let guard = activity.request_started();
        assert_eq!(activity.deadline(IDLE, HEAD), None, "busy: no deadline");
        tokio::time::advance(Duration::from_secs(500)).await;
        assert_eq!(
            activity.deadline(IDLE, HEAD),
            None,
            "a slow answer is not idle"
        );
        drop(guard);
        assert_eq!(
            activity.deadline(IDLE, HEAD),
            Some(start + Duration::from_secs(500) + IDLE)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn http1_bytes_while_idle_start_the_header_read_timeout() {
        let activity = Activity::new(Protocol::Http1);
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(5)).await;
        activity.bytes_received();
        tokio::time::advance(Duration::from_secs(5)).await;
        activity.bytes_received(); // a later byte does not extend the head's time
        assert_eq!(
            activity.deadline(IDLE, HEAD),
            Some(start + Duration::from_secs(5) + HEAD)
        );
        // The head is complete: the request is in progress, and after it a new idle
        // period begins.
        drop(activity.request_started());
        assert_eq!(
            activity.deadline(IDLE, HEAD),
            Some(start + Duration::from_secs(10) + IDLE)
        );
    }

    #[tokio::test]
    async fn the_start_of_a_head_is_told_so_the_earlier_deadline_is_kept() {
        let activity = Activity::new(Protocol::Http1);
        activity.bytes_received();
        tokio::time::timeout(Duration::from_secs(1), activity.head_begun())
            .await
            .expect("told");
    }

    #[tokio::test(start_paused = true)]
    async fn http2_frames_without_streams_do_not_count_as_activity() {
        let activity = Activity::new(Protocol::Http2);
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(5)).await;
        activity.bytes_received(); // a PING, say
        assert_eq!(activity.deadline(IDLE, HEAD), Some(start + IDLE));
    }

    #[tokio::test(start_paused = true)]
    async fn overlapping_streams_keep_the_connection_busy_until_the_last_ends() {
        let activity = Activity::new(Protocol::Http2);
        let first = activity.request_started();
        let second = activity.request_started();
        drop(first);
        assert!(activity.busy());
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(second);
        assert_eq!(
            activity.idle_since(),
            Some(Instant::now()),
            "idle from the last stream's end"
        );
    }

    #[tokio::test]
    async fn on_http2_a_large_frame_is_handed_out_in_pieces_and_arrives_whole() {
        let data: Vec<u8> = (0..PIECE * 2 + 100).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let (told, pieces) = tokio::sync::oneshot::channel();
        let stream = async move {
            let body = Full::new(Bytes::from(data))
                .map_err(|never| match never {})
                .boxed();
            let guard = Activity::new(Protocol::Http2).request_started();
            let mut tracked = TrackedBody::new(body, guard);
            assert!(tracked.progress.is_some(), "inside an HTTP/2 stream's task");
            let mut pieces = Vec::new();
            while let Some(frame) = tracked.frame().await {
                pieces.push(frame.expect("frame").into_data().expect("data"));
            }
            assert!(tracked.is_end_stream());
            let _ = told.send(pieces);
        };
        tokio::spawn(Watched::new(stream, Duration::from_secs(60)));
        let pieces = pieces.await.expect("the body was read");
        let sizes: Vec<usize> = pieces.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [PIECE, PIECE, 100]);
        assert_eq!(pieces.concat(), expected);
    }

    #[tokio::test]
    async fn on_http1_frames_pass_as_they_are() {
        let body = Full::new(Bytes::from(vec![b'x'; PIECE * 2]))
            .map_err(|never| match never {})
            .boxed();
        let mut tracked = TrackedBody::new(body, Activity::new(Protocol::Http1).request_started());
        let frame = tracked.frame().await.expect("a frame").expect("data");
        assert_eq!(frame.into_data().expect("data").len(), PIECE * 2);
    }
}
