//! Everything that touches Python: the objects journeys see, conversions, and the entry points.
pub mod context;
pub mod control;
pub mod decode;
pub mod encode;
pub mod entry;
pub mod files;
pub mod http;
pub mod http_args;
pub mod http_future;
pub mod http_journey;
pub mod http_request;
pub mod http_response;
pub mod http_session;
pub mod receivers;
pub mod runner;
pub mod services;
pub mod sink;
pub mod transaction;
pub mod txnvar;

use pyo3::prelude::*;

/// Adds every class and function to `mite._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<context::Context>()?;
    m.add_class::<transaction::Transaction>()?;
    m.add_class::<transaction::Ready>()?;
    m.add_class::<sink::MessageSink>()?;
    m.add_class::<sink::LocalPipeline>()?;
    m.add_class::<control::WorkTracker>()?;
    m.add_class::<control::RunnerTracker>()?;
    m.add_class::<files::Collector>()?;
    m.add_class::<files::Recorder>()?;
    m.add_class::<http::CurlEngine>()?;
    m.add_class::<services::Socket>()?;
    m.add_function(wrap_pyfunction!(services::run_duplicator, m)?)?;
    m.add_function(wrap_pyfunction!(services::run_exporter, m)?)?;
    m.add_function(wrap_pyfunction!(services::run_stats, m)?)?;
    m.add_function(wrap_pyfunction!(receivers::run_collector, m)?)?;
    m.add_function(wrap_pyfunction!(receivers::run_recorder, m)?)?;
    m.add_class::<http_session::Session>()?;
    m.add_class::<http_session::JourneySessions>()?;
    m.add_class::<http_request::RequestCoro>()?;
    m.add_class::<http_future::RequestFuture>()?;
    m.add_class::<http_journey::HttpJourney>()?;
    m.add_class::<http_journey::JourneyCoro>()?;
    m.add_class::<http_response::Response>()?;
    m.add_function(wrap_pyfunction!(control::plan_work, m)?)?;
    m.add_function(wrap_pyfunction!(encode::pack_msg, m)?)?;
    m.add_function(wrap_pyfunction!(entry::main, m)?)?;
    m.add_function(wrap_pyfunction!(decode::unpack_msg, m)?)?;
    m.add("active_transaction", txnvar::var(m.py())?)?;
    runner::register(m)
}
