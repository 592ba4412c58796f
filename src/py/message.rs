//! The fields of one message, listed once and written by either encoder a context uses: straight
//! to msgpack (mite's own pipeline) or into a dict (a Python `send_fn`, or a field name that
//! repeats one every message gets). A new native message type implements `MessageFields`; the
//! context adds `type`, `time`, its ids and the transaction to whatever it is given.
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::support::encode::{write_obj, write_str};

/// Where fields go; one method per msgpack type mite 2.11's messages use.
pub trait FieldWriter {
    fn str(&mut self, key: &'static str, value: &str) -> PyResult<()>;
    fn float(&mut self, key: &'static str, value: f64) -> PyResult<()>;
    fn int(&mut self, key: &'static str, value: i64) -> PyResult<()>;
    fn uint(&mut self, key: &'static str, value: u64) -> PyResult<()>;
    fn boolean(&mut self, key: &'static str, value: bool) -> PyResult<()>;
    /// msgpack bin (`bytes` in Python).
    fn bytes(&mut self, key: &'static str, value: &[u8]) -> PyResult<()>;
    /// A Python key and value, as given by the user.
    fn item(&mut self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()>;
}

/// One message's own fields, in mite 2.11's order.
pub trait MessageFields<'py> {
    /// How many fields `write` writes (a msgpack map states its length first).
    fn count(&self) -> usize;
    /// The fields a user named, if any: one that repeats a key every message gets sends the
    /// message through the dict encoder, so the key order is what Python's dict update gives.
    fn user_fields(&self) -> Option<&Bound<'py, PyDict>>;
    fn write<W: FieldWriter>(&self, w: &mut W) -> PyResult<()>;
}

/// `ctx.send(type, **fields)`: the user's keyword arguments.
pub struct Kwargs<'a, 'py>(pub Option<&'a Bound<'py, PyDict>>);

impl<'py> MessageFields<'py> for Kwargs<'_, 'py> {
    fn count(&self) -> usize {
        self.0.map_or(0, |d| d.len())
    }

    fn user_fields(&self) -> Option<&Bound<'py, PyDict>> {
        self.0
    }

    fn write<W: FieldWriter>(&self, w: &mut W) -> PyResult<()> {
        for (k, v) in self.0.iter().flat_map(|d| d.iter()) {
            w.item(&k, &v)?;
        }
        Ok(())
    }
}

/// The `txn` message that closes a transaction.
pub struct TxnFields {
    pub start: f64,
    pub end: f64,
    pub had_error: bool,
}

impl<'py> MessageFields<'py> for TxnFields {
    fn count(&self) -> usize {
        3
    }

    fn user_fields(&self) -> Option<&Bound<'py, PyDict>> {
        None
    }

    fn write<W: FieldWriter>(&self, w: &mut W) -> PyResult<()> {
        w.float("start_time", self.start)?;
        w.float("end_time", self.end)?;
        w.boolean("had_error", self.had_error)
    }
}

/// Writes msgpack, as `msgpack.packb(..., use_bin_type=True)` would.
pub struct MsgpackWriter<'a>(pub &'a mut Vec<u8>);

impl FieldWriter for MsgpackWriter<'_> {
    fn str(&mut self, key: &'static str, value: &str) -> PyResult<()> {
        write_str(self.0, key);
        write_str(self.0, value);
        Ok(())
    }

    fn float(&mut self, key: &'static str, value: f64) -> PyResult<()> {
        write_str(self.0, key);
        rmp::encode::write_f64(self.0, value).expect("Vec write");
        Ok(())
    }

    fn int(&mut self, key: &'static str, value: i64) -> PyResult<()> {
        write_str(self.0, key);
        rmp::encode::write_sint(self.0, value).expect("Vec write");
        Ok(())
    }

    fn uint(&mut self, key: &'static str, value: u64) -> PyResult<()> {
        write_str(self.0, key);
        rmp::encode::write_uint(self.0, value).expect("Vec write");
        Ok(())
    }

    fn boolean(&mut self, key: &'static str, value: bool) -> PyResult<()> {
        write_str(self.0, key);
        rmp::encode::write_bool(self.0, value).expect("Vec write");
        Ok(())
    }

    fn bytes(&mut self, key: &'static str, value: &[u8]) -> PyResult<()> {
        write_str(self.0, key);
        rmp::encode::write_bin(self.0, value).expect("Vec write");
        Ok(())
    }

    fn item(&mut self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        write_obj(self.0, key)?;
        write_obj(self.0, value)
    }
}

/// Fills a dict, with the Python types the msgpack encoder's values decode to.
pub struct DictWriter<'py>(pub Bound<'py, PyDict>);

impl FieldWriter for DictWriter<'_> {
    fn str(&mut self, key: &'static str, value: &str) -> PyResult<()> {
        self.0.set_item(key, value)
    }

    fn float(&mut self, key: &'static str, value: f64) -> PyResult<()> {
        self.0.set_item(key, value)
    }

    fn int(&mut self, key: &'static str, value: i64) -> PyResult<()> {
        self.0.set_item(key, value)
    }

    fn uint(&mut self, key: &'static str, value: u64) -> PyResult<()> {
        self.0.set_item(key, value)
    }

    fn boolean(&mut self, key: &'static str, value: bool) -> PyResult<()> {
        self.0.set_item(key, value)
    }

    fn bytes(&mut self, key: &'static str, value: &[u8]) -> PyResult<()> {
        self.0.set_item(key, PyBytes::new(self.0.py(), value))
    }

    fn item(&mut self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.set_item(key, value)
    }
}

/// The fields as a new dict.
pub fn to_dict<'py, F: MessageFields<'py>>(py: Python<'py>, f: &F) -> PyResult<Bound<'py, PyDict>> {
    let mut w = DictWriter(PyDict::new(py));
    f.write(&mut w)?;
    Ok(w.0)
}
