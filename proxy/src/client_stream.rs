//! A client's socket as the HTTP server reads it: the sniffed bytes first, activity
//! noted for the idle deadline, writes that wait on a client reading nothing cut off
//! after the send timeout, and the connection's slot held until the socket is dropped
//! (after an upgrade too, since the tunnel owns it then).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::activity::Activity;
use crate::slots::Slot;
use crate::sniff::Sniffed;

/// The socket of one client connection.
#[derive(Debug)]
pub(crate) struct ClientStream<S> {
    stream: S,
    sniffed: Sniffed,
    replayed: usize,
    activity: Arc<Activity>,
    send_timeout: Duration,
    /// Set while a write waits on the client; fires after the send timeout.
    stall: Option<Pin<Box<Sleep>>>,
    stalled: bool,
    _slot: Slot,
}

impl<S> ClientStream<S> {
    /// `stream`, which already gave up `sniffed`.
    pub(crate) fn new(
        stream: S,
        sniffed: Sniffed,
        activity: Arc<Activity>,
        send_timeout: Duration,
        slot: Slot,
    ) -> Self {
        Self {
            stream,
            sniffed,
            replayed: 0,
            activity,
            send_timeout,
            stall: None,
            stalled: false,
            _slot: slot,
        }
    }

    /// A write could not proceed: pending until the send timeout, then an error.
    fn wait_for_client<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.stalled {
            self.stalled = true;
            let deadline = Instant::now() + self.send_timeout;
            match &mut self.stall {
                Some(stall) => stall.as_mut().reset(deadline),
                None => self.stall = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        match self.stall.as_mut().map(|stall| stall.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing within the send timeout",
            ))),
            _ => Poll::Pending,
        }
    }

    fn written<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Pending => self.wait_for_client(cx),
            ready => {
                self.stalled = false;
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ClientStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let unread = &this.sniffed.bytes()[this.replayed..];
        if !unread.is_empty() {
            let len = unread.len().min(buf.remaining());
            buf.put_slice(&unread[..len]);
            this.replayed += len;
            this.activity.bytes_received();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_received();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ClientStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.written(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.written(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.written(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::activity::Protocol;
    use crate::slots::ConnectionSlots;
    use crate::sniff::sniff;
    use crate::trusted::TrustedProxies;

    async fn client_stream(
        server: tokio::io::DuplexStream,
        sniffed: Sniffed,
        slots: &ConnectionSlots,
    ) -> ClientStream<tokio::io::DuplexStream> {
        let slot = slots
            .claim(slots.free_slot().await, [127, 0, 0, 1].into())
            .expect("slot");
        ClientStream::new(
            server,
            sniffed,
            Activity::new(Protocol::Http1),
            Duration::from_secs(60),
            slot,
        )
    }

    #[tokio::test]
    async fn the_sniffed_bytes_are_read_again_then_the_rest() {
        let slots = ConnectionSlots::new(1, 0, TrustedProxies::default());
        let (mut client, mut server) = tokio::io::duplex(64);
        client
            .write_all(b"GET / HTTP/1.1\r\n")
            .await
            .expect("write");
        let (_, sniffed) = sniff(&mut server).await.expect("sniffed");
        let mut stream = client_stream(server, sniffed, &slots).await;
        drop(client);
        let mut read = String::new();
        stream.read_to_string(&mut read).await.expect("read");
        assert_eq!(read, "GET / HTTP/1.1\r\n");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_reads_nothing_fails_the_write_after_the_send_timeout() {
        let slots = ConnectionSlots::new(1, 0, TrustedProxies::default());
        let (client, server) = tokio::io::duplex(16);
        let mut stream = client_stream(server, Sniffed::default(), &slots).await;
        let start = Instant::now();
        let error = stream
            .write_all(&[b'x'; 1024])
            .await
            .expect_err("the client never reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_reader_is_not_cut_off() {
        let slots = ConnectionSlots::new(1, 0, TrustedProxies::default());
        let (mut client, server) = tokio::io::duplex(16);
        let mut stream = client_stream(server, Sniffed::default(), &slots).await;
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let mut total = 0;
            while total < 1024 {
                tokio::time::sleep(Duration::from_secs(30)).await;
                total += client.read(&mut buf).await.expect("read");
            }
            total
        });
        stream
            .write_all(&[b'x'; 1024])
            .await
            .expect("every write proceeds within 60 s");
        drop(stream);
        assert_eq!(reader.await.expect("reader"), 1024);
    }

    #[tokio::test]
    async fn the_slot_is_held_until_the_stream_is_dropped() {
        let slots = ConnectionSlots::new(1, 0, TrustedProxies::default());
        let (_client, server) = tokio::io::duplex(16);
        let stream = client_stream(server, Sniffed::default(), &slots).await;
        assert_eq!(slots.open(), 1);
        drop(stream);
        assert_eq!(slots.open(), 0);
    }
}
