//! Python objects found once by module and name (`json.dumps`, asyncio's exceptions), cached for
//! the life of the process.
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `module.name`, imported the first time and kept in `cell`.
pub fn lookup<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    Ok(cell
        .get_or_try_init(py, || py.import(module)?.getattr(name).map(Bound::unbind))?
        .bind(py))
}
