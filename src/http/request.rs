//! What one HTTP request asks of the engine.
use std::time::Duration;

/// `http_version=`: libcurl's default (HTTP/2 over TLS when offered, else 1.1) or a fixed one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpVersion {
    #[default]
    Default,
    Http10,
    Http11,
    Http2,
    /// HTTP/2 without TLS, no upgrade ("prior knowledge").
    Http2PriorKnowledge,
}

impl HttpVersion {
    /// Parses the values the Python API accepts.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "1.0" => HttpVersion::Http10,
            "1.1" => HttpVersion::Http11,
            "2" | "2.0" => HttpVersion::Http2,
            "2-prior-knowledge" => HttpVersion::Http2PriorKnowledge,
            _ => return None,
        })
    }
}

/// One request, as the engine thread needs it; built on the loop thread.
#[derive(Clone, Debug, Default)]
pub struct RequestSpec {
    pub method: Vec<u8>,
    pub url: String,
    /// Complete header lines, `Name: value`.
    pub headers: Vec<Vec<u8>>,
    pub body: Option<Vec<u8>>,
    /// Netscape cookie-file lines added to the session's jar before the transfer.
    pub cookies: Vec<Vec<u8>>,
    pub auth: Option<(String, String)>,
    /// (key file, certificate file) for a client certificate.
    pub cert: Option<(String, String)>,
    pub timeout: Option<Duration>,
    pub http_version: HttpVersion,
    pub verify: bool,
}

impl RequestSpec {
    /// A GET with nothing but a URL: what a handle with only the base options can send as is.
    pub fn is_plain(&self) -> bool {
        self.method == b"GET"
            && self.headers.is_empty()
            && self.body.is_none()
            && self.cookies.is_empty()
            && self.auth.is_none()
            && self.cert.is_none()
            && self.timeout.is_none()
            && self.http_version == HttpVersion::Default
            && !self.verify
    }
}
