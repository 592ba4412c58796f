//! Content-Encoding: bodies arrive as sent and are decoded here, so the engine accepts what
//! mite 2.11's libcurl accepted (`deflate, gzip, br, zstd`) although the built-in libcurl has
//! neither brotli nor zstd.
use std::io::Read;

/// What requests advertise unless the caller sets Accept-Encoding itself.
pub const ACCEPT_ENCODING: &str = "Accept-Encoding: deflate, gzip, br, zstd";

fn inflate(body: &[u8]) -> std::io::Result<Vec<u8>> {
    // "deflate" is zlib-wrapped by the standard and raw by some servers: try zlib, then raw.
    let mut out = Vec::new();
    if flate2::read::ZlibDecoder::new(body)
        .read_to_end(&mut out)
        .is_ok()
    {
        return Ok(out);
    }
    out.clear();
    flate2::read::DeflateDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

fn one(coding: &str, body: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match coding {
        "gzip" | "x-gzip" => {
            flate2::read::MultiGzDecoder::new(&body[..]).read_to_end(&mut out)?;
        }
        "deflate" => out = inflate(&body)?,
        "br" => {
            brotli_decompressor::Decompressor::new(&body[..], 64 * 1024).read_to_end(&mut out)?;
        }
        "zstd" => {
            let mut d = ruzstd::decoding::StreamingDecoder::new(&body[..])
                .map_err(std::io::Error::other)?;
            d.read_to_end(&mut out)?;
        }
        // identity, and codings nobody asked for: the body stays as it came.
        _ => return Ok(body),
    }
    Ok(out)
}

/// Undoes the codings in reverse order of application. `Err` when a body does not decode.
pub fn decode(encoding: &str, body: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = body;
    for coding in encoding
        .split(',')
        .map(str::trim)
        .rev()
        .filter(|c| !c.is_empty())
    {
        body = one(coding, body)?;
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_deflate_round_trip_and_identity_is_untouched() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello gzip").unwrap();
        assert_eq!(decode("gzip", gz.finish().unwrap()).unwrap(), b"hello gzip");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"hello zlib").unwrap();
        assert_eq!(
            decode("deflate", z.finish().unwrap()).unwrap(),
            b"hello zlib"
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(b"hello raw").unwrap();
        assert_eq!(
            decode("deflate", raw.finish().unwrap()).unwrap(),
            b"hello raw"
        );
        assert_eq!(decode("identity", b"plain".to_vec()).unwrap(), b"plain");
        assert!(decode("gzip", b"not gzip".to_vec()).is_err());
    }
}
