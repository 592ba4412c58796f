//! Everything that touches Python: the objects journeys see, conversions, and the entry points.
//!
//! Layers, each using only those above it (`scripts/module_cycles.py` checks that no two modules
//! use each other):
//! 1. `support/` — helpers that know Python and asyncio, no mite type;
//! 2. `message.rs` — the fields of a message and its two encoders; `results.rs` — thresholds and reports;
//! 3. `context/` — `Context`, transactions, the sink and the local pipeline;
//! 4. `http/` — the HTTP engine's face: sessions, requests, responses, `@mite_http`;
//! 5. `runner/`, `components/`, `entry.rs` — the runner core, the distributed components, `main`.
pub mod components;
pub mod context;
pub mod entry;
pub mod http;
pub mod message;
pub mod results;
pub mod runner;
pub mod support;

use pyo3::prelude::*;

/// Adds every class and function to `mite._native`, each folder its own.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    support::register(m)?;
    results::register(m)?;
    context::register(m)?;
    http::register(m)?;
    runner::register(m)?;
    components::register(m)?;
    entry::register(m)
}
