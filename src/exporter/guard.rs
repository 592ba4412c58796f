//! Two limits hyper does not keep by itself: the request line's length (answered 414 before the
//! line is buffered) and the number of open connections (the oldest is closed to make room).
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Longest request line (method, target, version) before the answer is 414.
pub const MAX_REQUEST_LINE: usize = 8 << 10;

const URI_TOO_LONG: &[u8] =
    b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// A connection that watches the first line of each request as it is read.
// NOTE: a request line starts when the connection opens and after each response is written
// (a body-carrying request is answered with `connection: close`, so no body is mistaken for
// one). Past the limit the client gets 414 and the connection ends; hyper's own head limit
// (431) covers everything after the request line.
pub struct LineGuard {
    inner: TcpStream,
    limit: usize,
    in_request_line: bool,
    line_len: usize,
}

impl LineGuard {
    pub fn new(inner: TcpStream, limit: usize) -> Self {
        LineGuard {
            inner,
            limit,
            in_request_line: true,
            line_len: 0,
        }
    }

    fn watch(&mut self, new: &[u8]) -> io::Result<()> {
        if !self.in_request_line {
            return Ok(());
        }
        match new.iter().position(|b| *b == b'\n') {
            Some(_) => self.in_request_line = false,
            None => self.line_len += new.len(),
        }
        if self.in_request_line && self.line_len > self.limit {
            // The answer is tiny and nothing else was written yet: it fits the socket buffer.
            let _ = self.inner.try_write(URI_TOO_LONG);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request line too long",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for LineGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let filled = buf.filled();
                Poll::Ready(this.watch(&filled[before..]))
            }
            other => other,
        }
    }
}

impl AsyncWrite for LineGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.in_request_line = true;
        self.line_len = 0;
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.in_request_line = true;
        self.line_len = 0;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Open connections by id, oldest first, each with the means to close it.
type Open = VecDeque<(u64, oneshot::Sender<()>)>;

/// The open connections and the last id handed out.
pub struct Slots {
    max: usize,
    open: Mutex<(u64, Open)>,
}

impl Slots {
    pub fn new(max: usize) -> Self {
        Slots {
            max,
            open: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Takes a slot for a new connection, closing the oldest when all are taken. Returns the
    /// slot's id and what resolves when this connection is the one to be closed.
    pub fn open(&self) -> (u64, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let mut guard = self.open.lock().expect("slots lock");
        let (next, open) = &mut *guard;
        while open.len() >= self.max {
            if let Some((_, oldest)) = open.pop_front() {
                let _ = oldest.send(());
            }
        }
        *next += 1;
        open.push_back((*next, tx));
        (*next, rx)
    }

    /// Gives the slot back when its connection ends.
    pub fn close(&self, id: u64) {
        let mut guard = self.open.lock().expect("slots lock");
        guard.1.retain(|(i, _)| *i != id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.open.lock().expect("slots lock").1.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_connection_makes_room() {
        let slots = Slots::new(2);
        let (a, mut ra) = slots.open();
        let (_b, mut rb) = slots.open();
        let (_c, _rc) = slots.open();
        assert_eq!(slots.len(), 2);
        assert!(ra.try_recv().is_ok(), "the oldest is told to close");
        assert!(rb.try_recv().is_err());
        slots.close(a);
        assert_eq!(slots.len(), 2);
    }
}
