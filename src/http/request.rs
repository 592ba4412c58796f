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

/// A request's `timeout=`: a finite number of seconds above zero, or the one-line reason not.
pub fn timeout(secs: f64) -> Result<std::time::Duration, String> {
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!(
            "timeout must be a positive number of seconds, not {secs}"
        ));
    }
    // A finite value can still be too large for a Duration (which would panic).
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("timeout is too large: {secs:e} s"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_versions_are_the_four_the_python_api_names() {
        assert_eq!(HttpVersion::parse("1.0"), Some(HttpVersion::Http10));
        assert_eq!(HttpVersion::parse("1.1"), Some(HttpVersion::Http11));
        assert_eq!(HttpVersion::parse("2"), Some(HttpVersion::Http2));
        assert_eq!(
            HttpVersion::parse("2-prior-knowledge"),
            Some(HttpVersion::Http2PriorKnowledge)
        );
        for bad in ["", "3", "1", "HTTP/1.1", "2-prior"] {
            assert_eq!(HttpVersion::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_timeout_is_a_positive_finite_number_of_seconds() {
        assert_eq!(timeout(0.25), Ok(std::time::Duration::from_millis(250)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = timeout(bad).unwrap_err();
            assert!(
                err.starts_with("timeout must be a positive number"),
                "{err}"
            );
        }
        assert_eq!(timeout(1e300), Err("timeout is too large: 1e300 s".into()));
    }
}
