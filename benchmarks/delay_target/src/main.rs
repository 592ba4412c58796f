//! `delay-target PORT DELAY_MS`: answers every GET on 127.0.0.1:PORT with a 2-byte body, DELAY_MS
//! after the request arrived; keep-alive, any number of connections, one thread (so its CPU is
//! at most one core and small per request: the client, not the target, is what is measured).
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

async fn serve(mut sock: TcpStream, delay: Duration) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let mut pending: Vec<u8> = Vec::with_capacity(4096);
    let mut buf = [0u8; 16384];
    loop {
        let end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = sock.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        };
        pending.drain(..end);
        tokio::time::sleep(delay).await;
        sock.write_all(RESPONSE).await?;
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let ms: u64 = args.get(2).and_then(|d| d.parse().ok()).unwrap_or(10);
    let delay = Duration::from_millis(ms);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("delay target on http://127.0.0.1:{port}/ ({ms} ms)");
        loop {
            let (sock, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = serve(sock, delay).await;
            });
        }
    })
}
