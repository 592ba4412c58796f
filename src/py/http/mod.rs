//! The HTTP engine's Python face: acurl's `Session`, `Response` and request coroutine, the future
//! a task waits on, `@mite_http`'s journey objects, and `http_metrics`. Files, each using only
//! those before it: `acurl.rs` (acurl's Python helpers), `future.rs`, `engine.rs`
//! (`CurlEngine`), `response.rs`, `metrics.rs`, `session.rs`, `args.rs`, `request.rs`,
//! `journey.rs`.
pub mod acurl;
pub mod args;
pub mod engine;
pub mod future;
pub mod journey;
pub mod metrics;
pub mod request;
pub mod response;
pub mod session;

use pyo3::prelude::*;

/// Adds the engine, sessions, requests, responses, `@mite_http`'s classes and `_bind_acurl`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::CurlEngine>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<session::JourneySessions>()?;
    m.add_class::<request::RequestCoro>()?;
    m.add_class::<future::RequestFuture>()?;
    m.add_class::<journey::HttpJourney>()?;
    m.add_class::<journey::JourneyCoro>()?;
    m.add_class::<response::Response>()?;
    m.add_function(wrap_pyfunction!(acurl::bind_acurl, m)?)
}
