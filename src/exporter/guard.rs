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

/// Where the bytes read so far stand in the stream of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In a request line, `n` bytes into it.
    Line(usize),
    /// In the header lines.
    Headers,
    /// In a body: the answer closes the connection (see `service`), so nothing after it is a
    /// request line and nothing more is watched.
    Body,
}

/// Follows request heads through the bytes of a connection, pipelined ones included, and tells
/// where a request line grows past the limit.
// NOTE: a request line starts when the connection opens and after each head without a body;
// a head that announces a body (`content-length` other than 0, `transfer-encoding`) ends the
// watch, because the answer to it closes the connection. Header lines are hyper's to limit
// (431); only their first bytes are kept, enough to read those two names and a short value.
#[derive(Debug)]
pub struct Heads {
    limit: usize,
    state: State,
    header: Vec<u8>,
    has_body: bool,
}

/// Bytes of a header line kept to recognise `content-length` and `transfer-encoding`.
const HEADER_PREFIX: usize = 64;

fn declares_body(line: &[u8]) -> bool {
    let line = line.to_ascii_lowercase();
    if let Some(v) = line.strip_prefix(b"content-length:") {
        return v.trim_ascii() != b"0";
    }
    line.starts_with(b"transfer-encoding:")
}

impl Heads {
    pub fn new(limit: usize) -> Self {
        Heads {
            limit,
            state: State::Line(0),
            header: Vec::with_capacity(HEADER_PREFIX),
            has_body: false,
        }
    }

    /// Follows `bytes`; returns the offset where a request line passed the limit, if one did.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            match self.state {
                State::Body => return None,
                State::Line(n) => {
                    let rest = &bytes[at..];
                    match rest.iter().position(|b| *b == b'\n') {
                        // An empty line (or a lone CR) before a request line is allowed.
                        Some(i) if n + i <= 1 => {
                            self.state = State::Line(0);
                            at += i + 1;
                        }
                        Some(i) if n + i <= self.limit => {
                            self.state = State::Headers;
                            self.header.clear();
                            at += i + 1;
                        }
                        Some(_) => return Some(at),
                        None if n + rest.len() > self.limit => return Some(at),
                        None => {
                            self.state = State::Line(n + rest.len());
                            return None;
                        }
                    }
                }
                State::Headers => {
                    let b = bytes[at];
                    at += 1;
                    if b != b'\n' {
                        if self.header.len() < HEADER_PREFIX {
                            self.header.push(b);
                        }
                        continue;
                    }
                    let line = self.header.strip_suffix(b"\r").unwrap_or(&self.header);
                    if line.is_empty() {
                        self.state = if self.has_body {
                            State::Body
                        } else {
                            State::Line(0)
                        };
                        self.has_body = false;
                    } else if declares_body(line) {
                        self.has_body = true;
                    }
                    self.header.clear();
                }
            }
        }
        None
    }
}

/// A connection whose reads are followed by `Heads`: a request line past the limit is answered
/// 414 and the connection ends. Requests before it (pipelined in the same read) are handed to
/// hyper first and answered; the 414 follows their answers.
pub struct LineGuard {
    inner: TcpStream,
    heads: Heads,
    /// A request line passed the limit after the bytes already handed on: answer 414 at the
    /// next read, which hyper makes once it has answered those.
    refused: bool,
}

impl LineGuard {
    pub fn new(inner: TcpStream, limit: usize) -> Self {
        LineGuard {
            inner,
            heads: Heads::new(limit),
            refused: false,
        }
    }

    fn refuse(&mut self) -> io::Error {
        // The answer is tiny and every earlier answer was written: it fits the socket buffer.
        let _ = self.inner.try_write(URI_TOO_LONG);
        io::Error::new(io::ErrorKind::InvalidData, "request line too long")
    }
}

impl AsyncRead for LineGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.refused {
            return Poll::Ready(Err(this.refuse()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let Some(cut) = this.heads.feed(&buf.filled()[before..]) else {
                    return Poll::Ready(Ok(()));
                };
                if cut == 0 {
                    return Poll::Ready(Err(this.refuse()));
                }
                // Hand on the requests before the long line; refuse it at the next read.
                buf.set_filled(before + cut);
                this.refused = true;
                Poll::Ready(Ok(()))
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
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
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
    fn a_long_request_line_is_found_where_it_starts() {
        let mut h = Heads::new(32);
        assert_eq!(h.feed(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        // Pipelined: the second request line starts after the first head.
        let two = b"GET / HTTP/1.1\r\n\r\nGET /aaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
        assert_eq!(Heads::new(16).feed(two), Some(18));
        // Split over reads, found at the start of the read that passes the limit.
        let mut h = Heads::new(16);
        assert_eq!(h.feed(b"GET /aaaaaaaa"), None);
        assert_eq!(h.feed(b"aaaaaaaaaaaa"), Some(0));
    }

    #[test]
    fn a_body_is_not_a_request_line() {
        let mut h = Heads::new(16);
        let head = b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
        assert_eq!(h.feed(head), None);
        assert_eq!(h.feed(&[b'a'; 100]), None);
        let mut h = Heads::new(16);
        let head = b"GET / HTTP/1.1\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(h.feed(head), None);
        assert_eq!(h.feed(&[b'a'; 100]), Some(0));
    }

    /// Reads through `guard` until the end or an error, never writing (as a server reading
    /// ahead of its answers would); returns the bytes handed on and whether it was refused.
    async fn read_all(guard: &mut LineGuard) -> (Vec<u8>, bool) {
        let mut handed = Vec::new();
        loop {
            let mut space = [0u8; 4096];
            let mut buf = ReadBuf::new(&mut space);
            match std::future::poll_fn(|cx| Pin::new(&mut *guard).poll_read(cx, &mut buf)).await {
                Ok(()) if buf.filled().is_empty() => return (handed, false),
                Ok(()) => handed.extend_from_slice(buf.filled()),
                Err(_) => return (handed, true),
            }
        }
    }

    #[test]
    fn a_pipelined_long_line_is_refused_before_any_answer_is_written() {
        use std::io::{Read, Write};
        let first = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut data = first.to_vec();
        data.extend_from_slice(b"GET /");
        data.extend_from_slice(&[b'a'; 100]);
        data.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let client = std::thread::spawn(move || {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(&data).unwrap();
                c.shutdown(std::net::Shutdown::Write).unwrap();
                let mut answer = Vec::new();
                let _ = c.read_to_end(&mut answer);
                answer
            });
            let (stream, _) = listener.accept().await.unwrap();
            let mut guard = LineGuard::new(stream, 32);
            let (handed, refused) = read_all(&mut guard).await;
            drop(guard);
            assert!(refused, "the long line was handed on");
            assert_eq!(handed, first, "the request before it is handed on whole");
            let answer = tokio::task::spawn_blocking(move || client.join().unwrap())
                .await
                .unwrap();
            assert!(answer.starts_with(b"HTTP/1.1 414 "), "{answer:?}");
        });
    }

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
