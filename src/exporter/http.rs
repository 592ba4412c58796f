//! The `/metrics` HTTP/1.1 server: hyper on a one-thread tokio runtime of its own (never the
//! journeys' thread), with limits on request lines, heads, bodies, connections and idle time.
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::error::Error;
use super::guard::{LineGuard, Slots, MAX_REQUEST_LINE};
use super::model::Model;
use super::service::answer;
use crate::log;
use crate::report::log::Level;

/// Largest request head (request line and headers) before the answer is 431.
// NOTE: hyper's read buffer is the head limit; a head that does not fit is refused with 431
// instead of growing the buffer, so each connection holds at most this much.
pub const MAX_HEAD: usize = 64 << 10;
/// Most header fields in one request (431 beyond).
pub const MAX_HEADERS: usize = 64;
/// Connections served at once; a new one beyond this closes the oldest.
// NOTE: scrapers are few. Closing the oldest (rather than refusing the newest) keeps a
// Prometheus scrape working while thousands of idle connections are held open against us.
pub const MAX_CONNECTIONS: usize = 256;
/// A request head must arrive within this long of the connection being ready for it.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// `--web-address` as mite 2.11 reads it: `[v6]:port`, `[v6]`, `host:port` or `host` (port 9301).
pub fn parse_address(address: &str) -> Result<(String, u16), Error> {
    let bad_port = |p: &str| Error::Port {
        address: address.into(),
        port: p.into(),
    };
    if let Some(rest) = address.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((host, port)) => Ok((host.into(), port.parse().map_err(|_| bad_port(port))?)),
            None => Ok((rest.trim_end_matches(']').into(), 9301)),
        };
    }
    if address.matches(':').count() == 1 {
        let (host, port) = address.split_once(':').expect("one colon");
        return Ok((host.into(), port.parse().map_err(|_| bad_port(port))?));
    }
    Ok((address.into(), 9301))
}

/// Binds now (so a taken port is reported at start) and serves on a background thread.
pub fn serve(address: &str, model: Arc<Mutex<Model>>) -> Result<std::net::SocketAddr, Error> {
    let (host, port) = parse_address(address)?;
    let listen = |source| Error::Listen {
        address: address.into(),
        source,
    };
    let listener = TcpListener::bind((host.as_str(), port)).map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    listener.set_nonblocking(true).map_err(listen)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Web)?;
    std::thread::Builder::new()
        .name("mite-web".into())
        .spawn(move || runtime.block_on(accept_loop(listener, model)))
        .map_err(Error::Web)?;
    Ok(local)
}

async fn accept_loop(listener: TcpListener, model: Arc<Mutex<Model>>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log!(Level::Error, "mite.web", "serve", "cannot serve: {e}");
            return;
        }
    };
    let slots = Arc::new(Slots::new(MAX_CONNECTIONS));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .max_headers(MAX_HEADERS);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors or similar: wait for connections to end, then go on.
                log!(Level::Debug, "mite.web", "serve", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (id, evicted) = slots.open();
        let model = model.clone();
        let slots = slots.clone();
        let conn = http.serve_connection(
            TokioIo::new(LineGuard::new(stream, MAX_REQUEST_LINE)),
            service_fn(move |req| answer(req, model.clone())),
        );
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                _ = evicted => {}
            }
            slots.close(id);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_mite_reads_them() {
        assert_eq!(
            parse_address("127.0.0.1:9301").unwrap(),
            ("127.0.0.1".into(), 9301)
        );
        assert_eq!(parse_address("[::1]:80").unwrap(), ("::1".into(), 80));
        assert_eq!(parse_address("[::1]").unwrap(), ("::1".into(), 9301));
        assert_eq!(
            parse_address("localhost").unwrap(),
            ("localhost".into(), 9301)
        );
        assert!(parse_address("h:x").is_err());
    }
}
