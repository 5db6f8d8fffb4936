//! HTTP/2 streams whose client gives the response no room: reset after the send timeout.
//!
//! An HTTP/2 client can leave a stream's flow-control window at zero (or never read)
//! while answering PINGs: the socket is never blocked, so the client socket's send
//! timeout never fires, and the stream is busy, so the idle timeout never does. hyper
//! then holds one chunk of the response and waits for window with no deadline, and the
//! upstream response behind it (its connection, its permit) waits with it.
//!
//! hyper runs each HTTP/2 stream as its own task, through the executor the connection is
//! built with. [`StreamExecutor`] runs every such task inside [`Watched`], which gives
//! the task a [`StreamProgress`] (a task-local the response body picks up, see
//! `TrackedBody`) and keeps the deadline: the body reports each poll and whether it
//! handed out a frame. hyper polls the body again only once the previous frame has been
//! given window, so a frame handed out and not followed by another poll within the send
//! timeout means the client is not taking the response. A body that is pending (the
//! upstream is slow) has no deadline here; `upstream_timeout` and the upstream decide.
//!
//! When the deadline passes, [`Watched`] drops the stream's task: the response body and
//! the upstream response inside it are dropped (hyper's client closes an upstream
//! connection whose response was not read to the end), and h2 resets the stream
//! (`RST_STREAM`, `CANCEL`). The connection and its other streams go on. Frames are
//! handed to hyper in pieces of at most [`PIECE`] bytes, so the deadline asks for that
//! much progress per send timeout, whatever size of chunk the upstream delivered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tokio::time::{Instant, Sleep};

/// The most bytes of a data frame handed to hyper at once on an HTTP/2 stream.
pub(crate) const PIECE: usize = 16 * 1024;

tokio::task_local! {
    /// The progress of the HTTP/2 stream the current task serves.
    static STREAM_PROGRESS: Arc<StreamProgress>;
}

/// What the response body of one HTTP/2 stream last did, told by the body and read by
/// its [`Watched`] task (the same task, so relaxed ordering suffices).
#[derive(Debug, Default)]
pub(crate) struct StreamProgress {
    /// Bumped on every poll of the body.
    polls: AtomicU32,
    /// Whether the last poll handed out a frame: the next one waits on the client.
    awaiting_client: AtomicBool,
}

impl StreamProgress {
    /// The progress of the HTTP/2 stream the current task serves; `None` outside one
    /// (HTTP/1.1, whose socket's send timeout covers a client that does not read).
    pub(crate) fn current() -> Option<Arc<Self>> {
        STREAM_PROGRESS.try_with(Arc::clone).ok()
    }

    /// The body was polled; `handed_out`: it gave a frame (rather than pending on the
    /// upstream, ending or failing).
    pub(crate) fn polled(&self, handed_out: bool) {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.awaiting_client.store(handed_out, Ordering::Relaxed);
    }
}

/// The next piece of `rest`, at most [`PIECE`] bytes (no copy).
pub(crate) fn next_piece(rest: &mut Bytes) -> Bytes {
    rest.split_to(rest.len().min(PIECE))
}

/// Runs hyper's HTTP/2 stream tasks under the send timeout (see the module's
/// documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamExecutor {
    send_timeout: Duration,
}

impl StreamExecutor {
    /// Streams whose client takes nothing for `send_timeout` are reset.
    pub(crate) fn new(send_timeout: Duration) -> Self {
        Self { send_timeout }
    }
}

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, stream: F) {
        tokio::spawn(Watched::new(stream, self.send_timeout));
    }
}

pin_project! {
    /// One stream's task, dropped once its response waits on the client for longer than
    /// the send timeout.
    #[derive(Debug)]
    pub(crate) struct Watched<F> {
        #[pin]
        stream: Option<TaskLocalFuture<Arc<StreamProgress>, F>>,
        progress: Arc<StreamProgress>,
        send_timeout: Duration,
        // `progress.polls` when the deadline was last set or cleared.
        seen_polls: u32,
        // Set while the last frame handed out waits on the client.
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<F: Future> Watched<F> {
    /// `stream`, with its progress available to the body it produces.
    pub(crate) fn new(stream: F, send_timeout: Duration) -> Self {
        let progress = Arc::new(StreamProgress::default());
        Self {
            stream: Some(STREAM_PROGRESS.scope(Arc::clone(&progress), stream)),
            progress,
            send_timeout,
            seen_polls: 0,
            deadline: None,
        }
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(stream) = this.stream.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        if stream.poll(cx).is_ready() {
            this.stream.set(None);
            return Poll::Ready(());
        }
        // The body is polled only within the stream's poll, just done: "now" is when
        // it last handed out a frame, if it did.
        let polls = this.progress.polls.load(Ordering::Relaxed);
        if polls != *this.seen_polls {
            *this.seen_polls = polls;
            if this.progress.awaiting_client.load(Ordering::Relaxed) {
                let due = Instant::now() + *this.send_timeout;
                match this.deadline.as_mut().as_pin_mut() {
                    Some(deadline) => deadline.reset(due),
                    None => this.deadline.set(Some(tokio::time::sleep_until(due))),
                }
            } else {
                this.deadline.set(None);
            }
        }
        match this.deadline.as_mut().as_pin_mut().map(|d| d.poll(cx)) {
            Some(Poll::Ready(())) => {
                tracing::debug!(
                    target: "scopegate::proxy",
                    "HTTP/2 stream reset: the client took none of the response within the send timeout"
                );
                // Drops the response (and the upstream's) and resets the stream.
                this.stream.set(None);
                Poll::Ready(())
            }
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::sync::oneshot;

    use super::*;

    const SEND: Duration = Duration::from_secs(60);

    /// Says when it is dropped.
    struct DropSignal(Option<oneshot::Sender<Instant>>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            if let Some(told) = self.0.take() {
                let _ = told.send(Instant::now());
            }
        }
    }

    /// A stream task standing in for hyper's: its body reports a frame handed out every
    /// `every` (or, `handed_out == false`, a poll that pends on the upstream), `times`
    /// times, then waits on the client forever.
    fn stream(
        handed_out: bool,
        every: Duration,
        times: usize,
        polled: Arc<AtomicUsize>,
    ) -> (impl Future<Output = ()>, oneshot::Receiver<Instant>) {
        let (told, dropped) = oneshot::channel();
        let task = async move {
            let _signal = DropSignal(Some(told));
            let progress = StreamProgress::current().expect("inside the stream's task");
            for _ in 0..times {
                progress.polled(handed_out);
                polled.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(every).await;
            }
            progress.polled(handed_out);
            std::future::pending::<()>().await;
        };
        (task, dropped)
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_the_client_does_not_take_drops_the_stream_after_the_send_timeout() {
        let (task, dropped) = stream(true, SEND, 0, Arc::default());
        let start = Instant::now();
        hyper::rt::Executor::execute(&StreamExecutor::new(SEND), task);
        let dropped_at = dropped.await.expect("the stream's task is dropped");
        assert_eq!(dropped_at - start, SEND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_pending_on_the_upstream_has_no_deadline() {
        let (task, mut dropped) = stream(false, SEND, 0, Arc::default());
        tokio::spawn(Watched::new(task, SEND));
        tokio::time::sleep(SEND * 10).await;
        assert!(
            matches!(dropped.try_recv(), Err(oneshot::error::TryRecvError::Empty)),
            "a slow upstream is not the client's stall"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn each_frame_taken_within_the_send_timeout_starts_it_again() {
        let polled = Arc::new(AtomicUsize::new(0));
        let every = SEND - Duration::from_secs(1);
        let (task, dropped) = stream(true, every, 5, Arc::clone(&polled));
        let start = Instant::now();
        tokio::spawn(Watched::new(task, SEND));
        let dropped_at = dropped.await.expect("dropped once the frames stop");
        assert_eq!(polled.load(Ordering::Relaxed), 5);
        assert_eq!(dropped_at - start, every * 5 + SEND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_ends_is_not_dropped_early() {
        let (told, dropped) = oneshot::channel();
        let task = async move {
            let _signal = DropSignal(Some(told));
            let progress = StreamProgress::current().expect("inside the stream's task");
            progress.polled(true);
            tokio::time::sleep(SEND / 2).await;
            progress.polled(false);
        };
        let start = Instant::now();
        tokio::spawn(Watched::new(task, SEND));
        assert_eq!(dropped.await.expect("ended") - start, SEND / 2);
    }

    #[tokio::test]
    async fn outside_a_watched_task_there_is_no_progress() {
        assert!(StreamProgress::current().is_none());
    }

    #[test]
    fn frames_are_handed_out_in_pieces() {
        let mut rest = Bytes::from(vec![b'x'; PIECE * 2 + 5]);
        assert_eq!(next_piece(&mut rest).len(), PIECE);
        assert_eq!(next_piece(&mut rest).len(), PIECE);
        assert_eq!(next_piece(&mut rest).len(), 5);
        assert!(rest.is_empty());
    }
}
