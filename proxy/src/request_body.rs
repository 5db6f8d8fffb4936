//! The client's request body on its way upstream, remembering whether it failed.
//!
//! When a client's chunked body is malformed (a size that overflows, a bare LF, a chunk
//! longer than its size) or ends early, hyper's upstream request fails like a broken
//! upstream would. The failure is the client's: [`BodyFailure`] tells the proxy to
//! answer 400, not 502. The upstream never receives the end of such a body (the
//! connection to it is dropped before the last chunk), so it never sees a complete
//! request made from a malformed one.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// Set when a [`ClientBody`] failed.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyFailure(Arc<AtomicBool>);

impl BodyFailure {
    /// Whether the client's body failed.
    pub(crate) fn happened(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A client's request body that records its failure in a [`BodyFailure`].
#[derive(Debug)]
pub(crate) struct ClientBody<B = Incoming> {
    inner: B,
    failure: BodyFailure,
}

impl<B> ClientBody<B> {
    /// Wraps `inner`; its failure will show in `failure`.
    pub(crate) fn new(inner: B, failure: &BodyFailure) -> Self {
        Self {
            inner,
            failure: failure.clone(),
        }
    }
}

impl<B> Body for ClientBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(_))) = &polled {
            self.failure.0.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Full};

    use super::*;

    /// A body that yields one chunk, then fails as a malformed chunked body does.
    struct Failing(bool);

    impl Body for Failing {
        type Data = Bytes;
        type Error = &'static str;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
            let sent = std::mem::replace(&mut self.0, true);
            Poll::Ready(Some(if sent {
                Err("invalid chunk size")
            } else {
                Ok(Frame::data(Bytes::from_static(b"hello")))
            }))
        }
    }

    #[tokio::test]
    async fn a_failing_body_is_recorded_and_a_good_one_is_not() {
        let failure = BodyFailure::default();
        let body = ClientBody::new(Failing(false), &failure);
        assert!(!failure.happened());
        assert!(body.collect().await.is_err());
        assert!(failure.happened());

        let failure = BodyFailure::default();
        let good = ClientBody::new(Full::new(Bytes::from_static(b"hello")), &failure);
        let bytes = good.collect().await.map(|c| c.to_bytes());
        assert_eq!(bytes.ok().as_deref(), Some(&b"hello"[..]));
        assert!(!failure.happened());
    }
}
