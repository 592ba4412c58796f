//! msgpack to Python objects, as `msgpack.unpackb(raw=False, use_list=False, strict_map_key=False)`.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use pyo3::IntoPyObjectExt;
use rmpv::Value;

/// Builds the Python value of a decoded msgpack value (arrays become tuples).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Nil => py.None().into_bound(py),
        Value::Boolean(b) => b.into_bound_py_any(py)?,
        Value::Integer(i) => match i.as_i64() {
            Some(n) => n.into_bound_py_any(py)?,
            None => i.as_u64().unwrap_or_default().into_bound_py_any(py)?,
        },
        Value::F32(f) => f64::from(*f).into_bound_py_any(py)?,
        Value::F64(f) => f.into_bound_py_any(py)?,
        Value::String(s) => match s.as_str() {
            Some(text) => text.into_bound_py_any(py)?,
            None => return Err(PyValueError::new_err("invalid UTF-8 in a msgpack str")),
        },
        Value::Binary(b) => PyBytes::new(py, b).into_any(),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|i| to_py(py, i))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
        Value::Map(entries) => {
            let d = PyDict::new(py);
            for (k, val) in entries {
                d.set_item(to_py(py, k)?, to_py(py, val)?)?;
            }
            d.into_any()
        }
        Value::Ext(_, data) => PyBytes::new(py, data).into_any(),
    })
}

/// Decodes exactly one value from `raw`.
pub fn unpack<'py>(py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    // rmpv reads the never-used marker 0xc1 as nil; msgpack-python refuses it, and so does the
    // frame scanner every socket admits frames with.
    if raw.contains(&0xc1) && !crate::bus::scan::is_one_value(raw) {
        return Err(PyValueError::new_err(
            "malformed msgpack frame: reserved marker 0xc1",
        ));
    }
    let mut cursor = raw;
    let value = rmpv::decode::read_value(&mut cursor)
        .map_err(|e| PyValueError::new_err(format!("malformed msgpack frame: {e}")))?;
    if !cursor.is_empty() {
        return Err(PyValueError::new_err("extra data after the msgpack frame"));
    }
    to_py(py, &value)
}

/// Python-facing `mite.utils.unpack_msg`.
#[pyfunction]
pub fn unpack_msg<'py>(py: Python<'py>, msg: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    unpack(py, msg)
}
