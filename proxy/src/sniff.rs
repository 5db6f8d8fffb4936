//! Telling HTTP/1.1 from HTTP/2 by a connection's first bytes, within the first-byte
//! timeout: a client that sends nothing, or part of the HTTP/2 preface, is not waited
//! for longer than that.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::activity::Protocol;

/// What an HTTP/2 client sends first (RFC 9113 §3.4).
pub(crate) const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The bytes read while sniffing, to be read again by the protocol's parser.
#[derive(Debug, Default)]
pub(crate) struct Sniffed {
    bytes: [u8; 24],
    len: usize,
}

impl Sniffed {
    /// The bytes read.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Reads until the bytes leave the HTTP/2 preface (HTTP/1.1) or complete it (HTTP/2);
/// `UnexpectedEof` if the client closes first. Time it out from outside.
pub(crate) async fn sniff<S>(stream: &mut S) -> std::io::Result<(Protocol, Sniffed)>
where
    S: AsyncRead + Unpin,
{
    let mut sniffed = Sniffed::default();
    loop {
        let read = stream.read(&mut sniffed.bytes[sniffed.len..]).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        sniffed.len += read;
        if sniffed.bytes() != &H2_PREFACE[..sniffed.len] {
            return Ok((Protocol::Http1, sniffed));
        }
        if sniffed.len == H2_PREFACE.len() {
            return Ok((Protocol::Http2, sniffed));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::*;

    #[tokio::test]
    async fn a_request_line_is_http1_from_its_first_byte() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"G").await.expect("write");
        let (protocol, sniffed) = sniff(&mut server).await.expect("sniffed");
        assert_eq!(protocol, Protocol::Http1);
        assert_eq!(sniffed.bytes(), b"G");
    }

    #[tokio::test]
    async fn post_and_pri_lookalikes_are_http1_once_they_leave_the_preface() {
        for start in [&b"POST / HTTP/1.1\r\n"[..], b"PRI * HTTP/1.1\r\n"] {
            let (mut client, mut server) = tokio::io::duplex(64);
            client.write_all(start).await.expect("write");
            let (protocol, _) = sniff(&mut server).await.expect("sniffed");
            assert_eq!(protocol, Protocol::Http1);
        }
    }

    #[tokio::test]
    async fn the_preface_in_pieces_is_http2() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let sniffing = tokio::spawn(async move { sniff(&mut server).await });
        for piece in H2_PREFACE.chunks(5) {
            client.write_all(piece).await.expect("write");
            tokio::task::yield_now().await;
        }
        let (protocol, sniffed) = sniffing.await.expect("task").expect("sniffed");
        assert_eq!(protocol, Protocol::Http2);
        assert_eq!(sniffed.bytes(), H2_PREFACE);
    }

    #[tokio::test(start_paused = true)]
    async fn half_a_preface_never_decides() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(&H2_PREFACE[..16]).await.expect("write");
        let waited = tokio::time::timeout(Duration::from_secs(3600), sniff(&mut server)).await;
        assert!(
            waited.is_err(),
            "still waiting: the caller's timeout ends it"
        );
    }

    #[tokio::test]
    async fn a_client_closing_first_is_told_apart() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"PRI").await.expect("write");
        drop(client);
        let error = sniff(&mut server).await.expect_err("closed");
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
