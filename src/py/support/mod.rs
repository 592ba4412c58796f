//! The lowest layer of `py/`: helpers that know Python and asyncio but no mite type — cached
//! lookups, asyncio's protocols, msgpack from and to Python objects, the transaction ContextVar.
pub mod aio;
pub mod decode;
pub mod encode;
pub mod lookup;
pub mod txnvar;

use pyo3::prelude::*;

/// Adds `pack_msg`, `unpack_msg`, `active_transaction` and the finished awaitable.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<aio::Ready>()?;
    m.add_function(wrap_pyfunction!(encode::pack_msg, m)?)?;
    m.add_function(wrap_pyfunction!(decode::unpack_msg, m)?)?;
    m.add("active_transaction", txnvar::var(m.py())?)
}
