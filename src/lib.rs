//! The `mite._native` extension: this file only registers what the modules below provide.
pub mod bus;
pub mod cli;
pub mod collector;
pub mod control;
pub mod duplicator;
pub mod exporter;
pub mod http;
pub mod pipeline;
pub mod py;
pub mod recorder;
pub mod report;
pub mod results;
pub mod schedule;
pub mod stats;
pub mod transport;

use pyo3::prelude::*;

// NOTE: buffers cross threads on every request (a request's spec goes to the HTTP engine thread,
// its response comes back, messages go to the pipeline thread), so one thread frees what another
// allocated. glibc's malloc then takes the other thread's arena lock: on the perf journey that
// was about 0.6 futex system calls per request across the three threads (`perf stat -e
// 'syscalls:sys_enter_futex' --per-thread`), and about 0.01 with mimalloc, whose frees to another
// thread's pages take no lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    py::register(m)
}
