//! One request's answer: `GET`/`HEAD /metrics` renders the model; anything else is refused with
//! the status that says why (404, 405, 413, 414).
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};

use super::guard::MAX_REQUEST_LINE;
use super::model::Model;
use super::text::render;

/// Largest request body announced before the answer is 413 (no endpoint here takes a body).
pub const MAX_BODY: u64 = 64 << 10;

fn plain(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Answers one request; never fails (refusals are responses).
pub async fn answer(
    req: Request<Incoming>,
    model: Arc<Mutex<Model>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let has_body = announced > 0 || req.headers().contains_key(TRANSFER_ENCODING);
    let target_len = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    let mut res = if target_len > MAX_REQUEST_LINE {
        plain(StatusCode::URI_TOO_LONG, "URI Too Long\n".into())
    } else if announced > MAX_BODY {
        plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large\n".into())
    } else {
        match (req.method(), req.uri().path()) {
            (&Method::GET | &Method::HEAD, "/metrics") => {
                let text = render(&model.lock().expect("model lock"));
                plain(StatusCode::OK, text)
            }
            (&Method::GET | &Method::HEAD, _) => plain(StatusCode::NOT_FOUND, "Not Found\n".into()),
            _ => plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed\n".into(),
            ),
        }
    };
    // A body is never read here: close instead of reading it to find the next request.
    if has_body || res.status() == StatusCode::URI_TOO_LONG {
        res.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(res)
}
