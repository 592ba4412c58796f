//! Python objects to msgpack, as `msgpack.packb(obj, use_bin_type=True)` encodes them.
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};

const MAX_DEPTH: u32 = 512;

fn io_err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Appends the msgpack encoding of a str.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    rmp::encode::write_str(out, s).expect("writing to a Vec cannot fail");
}

/// Appends the msgpack encoding of `obj`.
pub fn write_obj(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    write_depth(out, obj, 0)
}

fn write_int(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(i) = obj.extract::<i64>() {
        rmp::encode::write_sint(out, i).map_err(io_err)?;
    } else if let Ok(u) = obj.extract::<u64>() {
        rmp::encode::write_uint(out, u).map_err(io_err)?;
    } else {
        return Err(PyOverflowError::new_err("Integer value out of range"));
    }
    Ok(())
}

fn write_depth(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>, depth: u32) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("recursion limit exceeded"));
    }
    // Exact types first: they are nearly every value a message carries.
    if let Ok(s) = obj.cast_exact::<PyString>() {
        write_str(out, s.to_str()?);
    } else if obj.is_none() {
        rmp::encode::write_nil(out).map_err(io_err)?;
    } else if let Ok(b) = obj.cast_exact::<PyBool>() {
        rmp::encode::write_bool(out, b.is_true()).map_err(io_err)?;
    } else if obj.is_exact_instance_of::<PyInt>() {
        write_int(out, obj)?;
    } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
        rmp::encode::write_f64(out, f.value()).map_err(io_err)?;
    } else if let Ok(d) = obj.cast::<PyDict>() {
        rmp::encode::write_map_len(out, d.len() as u32).map_err(io_err)?;
        for (k, v) in d.iter() {
            write_depth(out, &k, depth + 1)?;
            write_depth(out, &v, depth + 1)?;
        }
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        rmp::encode::write_array_len(out, t.len() as u32).map_err(io_err)?;
        for item in t.iter() {
            write_depth(out, &item, depth + 1)?;
        }
    } else if let Ok(l) = obj.cast::<PyList>() {
        rmp::encode::write_array_len(out, l.len() as u32).map_err(io_err)?;
        for item in l.iter() {
            write_depth(out, &item, depth + 1)?;
        }
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        rmp::encode::write_bin(out, b.as_bytes()).map_err(io_err)?;
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        rmp::encode::write_bin(out, &b.to_vec()).map_err(io_err)?;
    } else if let Ok(s) = obj.cast::<PyString>() {
        write_str(out, s.to_str()?);
    } else if obj.is_instance_of::<PyBool>() {
        rmp::encode::write_bool(out, obj.is_truthy()?).map_err(io_err)?;
    } else if obj.is_instance_of::<PyInt>() {
        write_int(out, obj)?;
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        rmp::encode::write_f64(out, f.value()).map_err(io_err)?;
    } else {
        let name = obj.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "can not serialize '{name}' object"
        )));
    }
    Ok(())
}

/// `pack_msg(obj)`: the bytes of one frame.
pub fn pack(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    write_obj(&mut out, obj)?;
    Ok(out)
}

/// Python-facing `mite.utils.pack_msg`.
#[pyfunction]
pub fn pack_msg<'py>(py: Python<'py>, msg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &pack(msg)?))
}
