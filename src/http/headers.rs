//! A response's final header block as acurl's `Response.headers` and `encoding` read it.

/// `(name, value)` text of the final header block: interim `1xx` blocks and the status line
/// left out; a line without `": "` has no value.
pub fn header_pairs(raw: &[u8]) -> Vec<(String, Option<String>)> {
    let text = String::from_utf8_lossy(raw);
    let last = text
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or("");
    last.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(": ") {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (line.to_string(), None),
        })
        .collect()
}

/// Header values grouped by lower-cased name, first-seen order, repeats joined with ", ".
pub fn grouped(raw: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in header_pairs(raw) {
        let k = k.to_lowercase();
        let v = v.unwrap_or_default();
        match out.iter_mut().find(|(name, _)| *name == k) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&v);
            }
            None => out.push((k, v)),
        }
    }
    out
}

/// acurl's `ct.split("charset=")[-1].split()[0]`, `latin1` without a charset; `None` where
/// acurl raises IndexError (`charset=` with nothing after it).
pub fn encoding(raw: &[u8]) -> Option<String> {
    let content_type = grouped(raw)
        .into_iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v);
    match content_type {
        Some(ct) if !ct.is_empty() && ct.contains("charset=") => ct
            .rsplit("charset=")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .map(str::to_string),
        _ => Some("latin1".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIRECTED: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nSet-Cookie: a=1\r\n\
        set-cookie: b=2\r\nX-Flag\r\nX-Empty: \r\n\r\n";

    #[test]
    fn only_the_final_block_counts_and_the_status_line_is_left_out() {
        assert_eq!(
            header_pairs(REDIRECTED),
            vec![
                (
                    "Content-Type".into(),
                    Some("text/html; charset=utf-8".into())
                ),
                ("Set-Cookie".into(), Some("a=1".into())),
                ("set-cookie".into(), Some("b=2".into())),
                ("X-Flag".into(), None),
                ("X-Empty".into(), Some("".into())),
            ]
        );
        assert!(header_pairs(b"").is_empty());
        assert!(header_pairs(b"HTTP/1.1 204 No Content\r\n\r\n").is_empty());
    }

    #[test]
    fn repeats_join_under_the_lower_cased_name_in_first_seen_order() {
        assert_eq!(
            grouped(REDIRECTED),
            vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("set-cookie".into(), "a=1, b=2".into()),
                ("x-flag".into(), "".into()),
                ("x-empty".into(), "".into()),
            ]
        );
    }

    #[test]
    fn the_encoding_is_the_last_charset_and_latin1_without_one() {
        let with = |ct: &str| format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\n\r\n");
        assert_eq!(encoding(REDIRECTED).as_deref(), Some("utf-8"));
        assert_eq!(
            encoding(with("text/plain").as_bytes()).as_deref(),
            Some("latin1")
        );
        assert_eq!(
            encoding(b"HTTP/1.1 200 OK\r\n\r\n").as_deref(),
            Some("latin1")
        );
        let two = with("a; charset=x; charset=ISO-8859-2 q");
        assert_eq!(encoding(two.as_bytes()).as_deref(), Some("ISO-8859-2"));
        assert_eq!(encoding(with("text/plain; charset=").as_bytes()), None);
    }
}
