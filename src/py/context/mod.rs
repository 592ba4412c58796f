//! What a journey sends through: `Context` (`ctx`), its transactions, and the sink and local
//! pipeline its messages go to. Knows messages (`message.rs`), not what any message is about.
pub mod ctx;
pub mod sink;
pub mod transaction;

use pyo3::prelude::*;

/// Adds `Context`, `Transaction`, `MessageSink` and `LocalPipeline`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ctx::Context>()?;
    m.add_class::<transaction::Transaction>()?;
    m.add_class::<sink::MessageSink>()?;
    m.add_class::<sink::LocalPipeline>()
}
