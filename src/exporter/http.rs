//! A small HTTP/1.1 server for `GET /metrics`: one thread accepting, one per connection
//! (scrapers are few and keep their connection open).
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::model::Model;
use super::text::render;
use crate::log;
use crate::report::log::Level;

/// `--web-address` as mite 2.11 reads it: `[v6]:port`, `[v6]`, `host:port` or `host` (port 9301).
pub fn parse_address(address: &str) -> Result<(String, u16), String> {
    let bad_port = |p: &str| format!("--web-address {address:?}: {p:?} is not a port number");
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
pub fn serve(address: &str, model: Arc<Mutex<Model>>) -> Result<std::net::SocketAddr, String> {
    let (host, port) = parse_address(address)?;
    let listener = TcpListener::bind((host.as_str(), port))
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("mite-web".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let model = model.clone();
                let _ = std::thread::Builder::new()
                    .name("mite-web-conn".into())
                    .spawn(move || handle(conn, &model));
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(local)
}

fn handle(conn: TcpStream, model: &Mutex<Model>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = conn.set_nodelay(true);
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = request_line.split_whitespace();
        let (method, target, version) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("HTTP/1.0"),
        );
        let mut keep_alive = version == "HTTP/1.1";
        let mut body_len = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
                if k == "connection" {
                    keep_alive = v == "keep-alive" || (keep_alive && v != "close");
                } else if k == "content-length" {
                    body_len = v.parse().unwrap_or(0);
                }
            }
        }
        if body_len > 0
            && std::io::copy(
                &mut (&mut reader).take(body_len as u64),
                &mut std::io::sink(),
            )
            .is_err()
        {
            return;
        }
        let path = target.split('?').next().unwrap_or("");
        let (status, body) = match (method, path) {
            ("GET" | "HEAD", "/metrics") => {
                let text = render(&model.lock().expect("model lock"));
                ("200 OK", text)
            }
            ("GET" | "HEAD", _) => ("404 NOT FOUND", "Not Found\n".to_string()),
            _ => ("405 METHOD NOT ALLOWED", "Method Not Allowed\n".to_string()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
            body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        let mut out = head.into_bytes();
        if method != "HEAD" {
            out.extend_from_slice(body.as_bytes());
        }
        if let Err(e) = writer.write_all(&out) {
            log!(
                Level::Debug,
                "mite.web",
                "handle",
                "scrape connection closed: {e}"
            );
            return;
        }
        if !keep_alive {
            return;
        }
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
