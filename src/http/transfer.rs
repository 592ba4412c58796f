//! One transfer: how a request is put on a libcurl easy handle, and what comes back from it.
use std::time::Duration;

use curl::easy::{Easy2, Handler, List, WriteError};

use super::request::{HttpVersion, RequestSpec};

/// Collects the raw header block and the body as libcurl delivers them, noting the final
/// block's Content-Encoding on the way (libcurl hands the header callback one whole line).
#[derive(Default)]
pub struct Collect {
    header: Vec<u8>,
    body: Vec<u8>,
    encoding: Option<String>,
    set_cookie: bool,
}

impl Collect {
    /// Ready for a transfer: room for a typical header block, so it is not regrown line by line.
    pub fn fresh() -> Self {
        Collect {
            header: Vec::with_capacity(512),
            body: Vec::new(),
            encoding: None,
            set_cookie: false,
        }
    }

    /// A `Set-Cookie` header arrived (the session's jar may hold cookies now).
    pub fn saw_set_cookie(&self) -> bool {
        self.set_cookie
    }
}

const CONTENT_ENCODING: &[u8] = b"content-encoding:";
const SET_COOKIE: &[u8] = b"set-cookie:";

fn starts_with_name(line: &[u8], name: &[u8]) -> bool {
    line.len() > name.len() && line[..name.len()].eq_ignore_ascii_case(name)
}

impl Handler for Collect {
    fn write(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        self.body.extend_from_slice(data);
        Ok(data.len())
    }

    fn header(&mut self, data: &[u8]) -> bool {
        if data.starts_with(b"HTTP/") {
            // A new block (after a 1xx): only the final block's coding counts.
            self.encoding = None;
        } else if starts_with_name(data, SET_COOKIE) {
            self.set_cookie = true;
        } else if self.encoding.is_none() && starts_with_name(data, CONTENT_ENCODING) {
            let value = String::from_utf8_lossy(&data[CONTENT_ENCODING.len()..]);
            self.encoding = Some(value.trim().to_ascii_lowercase());
        }
        self.header.extend_from_slice(data);
        true
    }
}

/// libcurl's phase timings, in seconds from the start of the transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    pub namelookup: f64,
    pub connect: f64,
    pub appconnect: f64,
    pub pretransfer: f64,
    pub starttransfer: f64,
    pub total: f64,
}

/// A finished transfer.
#[derive(Debug, Default)]
pub struct Transfer {
    pub status: u32,
    pub effective_url: String,
    pub redirect_url: Option<String>,
    /// Every header line received, as received (interim `100 Continue` blocks included).
    pub header: Vec<u8>,
    pub body: Vec<u8>,
    pub timings: Timings,
    pub download_size: f64,
    pub upload_size: f64,
    pub primary_ip: String,
    /// Whole seconds since the epoch when the request was made (acurl's `start_time`).
    pub start_time: i64,
}

/// A transfer libcurl could not complete: its error code and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferError {
    pub code: u32,
    pub message: String,
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "curl failed with code {} {}", self.code, self.message)
    }
}

/// libcurl 7.88's wording where 8.x reworded it: acurl users' scripts match these texts.
fn classic_text(code: u32) -> Option<&'static str> {
    Some(match code {
        5 => "Couldn't resolve proxy name",
        6 => "Couldn't resolve host name",
        7 => "Couldn't connect to server",
        15 => "FTP: can't figure out the host in the PASV response",
        17 => "FTP: couldn't set file type",
        19 => "FTP: couldn't retrieve (RETR failed) the specified file",
        34 => "Internal problem setting up the POST",
        36 => "Couldn't resume download",
        37 => "Couldn't read a file:// file",
        41 => "A required function in the library was not found",
        59 => "Couldn't use specified SSL cipher",
        66 => "Failed to initialise SSL crypto engine",
        _ => return None,
    })
}

impl From<curl::Error> for TransferError {
    fn from(e: curl::Error) -> Self {
        let code = e.code();
        let message =
            classic_text(code).map_or_else(|| e.description().to_string(), str::to_string);
        TransferError { code, message }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Whether the environment names any proxy (`http_proxy`, `ALL_PROXY`, `no_proxy`, ...), read
/// once. When it names none, handles say so to libcurl up front.
///
/// NOTE: otherwise libcurl looks for five of these variables on every request (`getenv` scans the
/// whole environment each time): 0.8% of the engine thread on the perf journey. A process that
/// sets a proxy variable after its first HTTP engine started is not seen (libcurl would have).
fn no_proxy_in_env() -> bool {
    static NONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NONE.get_or_init(|| {
        !std::env::vars_os().any(|(k, _)| {
            k.to_str()
                .is_some_and(|k| k.to_ascii_lowercase().ends_with("_proxy"))
        })
    })
}

/// Options both configurations share.
fn configure_common(easy: &mut Easy2<Collect>) -> Result<(), curl::Error> {
    easy.signal(false)?;
    // Bodies are decoded by `decode.rs` (libcurl here lacks brotli and zstd).
    easy.http_content_decoding(false)?;
    if no_proxy_in_env() {
        // The empty strings mean "no proxy" and "no exemptions": what the empty environment
        // meant, without looking it up per request.
        easy.proxy("")?;
        easy.noproxy("")?;
    }
    Ok(())
}

/// The options every transfer has, put on a fresh or reset handle once: it then serves any
/// number of plain requests (`RequestSpec::is_plain`) with only the URL set per request.
pub fn configure_base(easy: &mut Easy2<Collect>) -> Result<(), curl::Error> {
    configure_common(easy)?;
    easy.ssl_verify_peer(false)?;
    easy.ssl_verify_host(false)?;
    let mut headers = List::new();
    headers.append(super::decode::ACCEPT_ENCODING)?;
    easy.http_headers(headers)?;
    // Turns the cookie engine on; the session's jar is attached by the engine.
    easy.cookie_file("")?;
    // Wait for a connection that can multiplex rather than open a new one (HTTP/2).
    easy.pipewait(true)?;
    Ok(())
}

/// Puts `spec` on a (fresh or reset) easy handle.
pub fn configure(easy: &mut Easy2<Collect>, spec: &RequestSpec) -> Result<(), curl::Error> {
    configure_common(easy)?;
    easy.url(&spec.url)?;
    let method = String::from_utf8_lossy(&spec.method);
    if method == "HEAD" {
        // A HEAD response announces a body it does not send; without NOBODY libcurl waits for it.
        easy.nobody(true)?;
    } else if method != "GET" || spec.body.is_some() {
        // (a GET with a body would otherwise go out as POST)
        easy.custom_request(&method)?;
    }
    easy.ssl_verify_peer(spec.verify)?;
    easy.ssl_verify_host(spec.verify)?;
    let mut headers = List::new();
    let mut own_accept_encoding = false;
    for h in &spec.headers {
        let line = String::from_utf8_lossy(h);
        own_accept_encoding |= line
            .split(':')
            .next()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("accept-encoding"));
        headers.append(&line)?;
    }
    if !own_accept_encoding {
        headers.append(super::decode::ACCEPT_ENCODING)?;
    }
    easy.http_headers(headers)?;
    if let Some((user, password)) = &spec.auth {
        easy.username(user)?;
        easy.password(password)?;
    }
    if let Some((key, cert)) = &spec.cert {
        easy.ssl_key(key)?;
        easy.ssl_cert(cert)?;
    }
    // Turns the cookie engine on; the session's jar is attached by the engine.
    easy.cookie_file("")?;
    for line in &spec.cookies {
        easy.cookie_list(&String::from_utf8_lossy(line))?;
    }
    if let Some(body) = &spec.body {
        easy.post_field_size(body.len() as u64)?;
        easy.post_fields_copy(body)?;
    }
    if let Some(t) = spec.timeout {
        easy.timeout(t)?;
    }
    let version = match spec.http_version {
        HttpVersion::Default => None,
        HttpVersion::Http10 => Some(curl::easy::HttpVersion::V10),
        HttpVersion::Http11 => Some(curl::easy::HttpVersion::V11),
        HttpVersion::Http2 => Some(curl::easy::HttpVersion::V2TLS),
        HttpVersion::Http2PriorKnowledge => Some(curl::easy::HttpVersion::V2PriorKnowledge),
    };
    if let Some(v) = version {
        easy.http_version(v)?;
    }
    // Wait for a connection that can multiplex rather than open a new one (HTTP/2).
    easy.pipewait(true)?;
    Ok(())
}

/// Reads everything the response needs off a finished easy handle; `Err` when the body does not
/// decode as its Content-Encoding says (libcurl's code 61, as libcurl itself would report).
pub fn extract(easy: &mut Easy2<Collect>, start_time: i64) -> Result<Transfer, TransferError> {
    let mut collected = std::mem::replace(easy.get_mut(), Collect::fresh());
    if let Some(encoding) = collected.encoding.take() {
        collected.body =
            super::decode::decode(&encoding, collected.body).map_err(|e| TransferError {
                code: 61,
                message: format!("Unrecognized or bad HTTP Content or Transfer-Encoding: {e}"),
            })?;
    }
    Ok(Transfer {
        status: easy.response_code().unwrap_or(0),
        effective_url: easy
            .effective_url()
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
        redirect_url: easy.redirect_url().ok().flatten().map(str::to_string),
        header: collected.header,
        body: collected.body,
        timings: Timings {
            namelookup: easy.namelookup_time().map(secs).unwrap_or(0.0),
            connect: easy.connect_time().map(secs).unwrap_or(0.0),
            appconnect: easy.appconnect_time().map(secs).unwrap_or(0.0),
            pretransfer: easy.pretransfer_time().map(secs).unwrap_or(0.0),
            starttransfer: easy.starttransfer_time().map(secs).unwrap_or(0.0),
            total: easy.total_time().map(secs).unwrap_or(0.0),
        },
        download_size: easy.download_size().unwrap_or(0.0),
        upload_size: easy.upload_size().unwrap_or(0.0),
        primary_ip: easy
            .primary_ip()
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
        start_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(lines: &[&str]) -> Option<String> {
        let mut c = Collect::fresh();
        for l in lines {
            c.header(l.as_bytes());
        }
        c.encoding
    }

    #[test]
    fn the_final_header_block_decides_the_coding() {
        let interim = [
            "HTTP/1.1 100 Continue\r\n",
            "Content-Encoding: gzip\r\n",
            "\r\n",
        ];
        let last = [
            "HTTP/1.1 200 OK\r\n",
            "Content-Encoding: BR \r\n",
            "X: y\r\n",
            "\r\n",
        ];
        let all: Vec<&str> = interim.iter().chain(last.iter()).copied().collect();
        assert_eq!(coding(&all).as_deref(), Some("br"));
        assert_eq!(
            coding(&[
                "HTTP/1.1 100 Continue\r\n",
                "Content-Encoding: gzip\r\n",
                "\r\n",
                "HTTP/1.1 200 OK\r\n",
                "\r\n"
            ]),
            None
        );
        assert_eq!(
            coding(&[
                "HTTP/1.1 200 OK\r\n",
                "content-encoding:gzip\r\n",
                "Content-Encoding: br\r\n"
            ])
            .as_deref(),
            Some("gzip")
        );
    }
}
