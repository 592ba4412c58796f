//! The `http_metrics` message: libcurl's numbers for one response, in mite 2.11's order and
//! msgpack types (`start_time` an int, `method` bin, `download_size` a float), then the fields
//! the journey's response callback added.
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::http::Transfer;
use crate::py::context::ctx::Context;
use crate::py::message::{to_dict, FieldWriter, MessageFields};

const HTTP_NAMES: [&str; 12] = [
    "start_time",
    "effective_url",
    "response_code",
    "dns_time",
    "connect_time",
    "tls_time",
    "transfer_start_time",
    "first_byte_time",
    "total_time",
    "primary_ip",
    "method",
    "download_size",
];

/// One response's `http_metrics` fields.
pub struct HttpMetrics<'a, 'py> {
    pub transfer: &'a Transfer,
    pub method: &'a [u8],
    pub extra: Option<&'a Bound<'py, PyDict>>,
}

impl<'py> MessageFields<'py> for HttpMetrics<'_, 'py> {
    fn count(&self) -> usize {
        HTTP_NAMES.len() + self.extra.map_or(0, |e| e.len())
    }

    fn user_fields(&self) -> Option<&Bound<'py, PyDict>> {
        self.extra
    }

    fn write<W: FieldWriter>(&self, w: &mut W) -> PyResult<()> {
        let t = self.transfer;
        w.int("start_time", t.start_time)?;
        w.str("effective_url", &t.effective_url)?;
        w.uint("response_code", u64::from(t.status))?;
        w.float("dns_time", t.timings.namelookup)?;
        w.float("connect_time", t.timings.connect)?;
        w.float("tls_time", t.timings.appconnect)?;
        w.float("transfer_start_time", t.timings.pretransfer)?;
        w.float("first_byte_time", t.timings.starttransfer)?;
        w.float("total_time", t.timings.total)?;
        w.str("primary_ip", &t.primary_ip)?;
        w.bytes("method", self.method)?;
        w.float("download_size", t.download_size)?;
        for (k, v) in self.extra.iter().flat_map(|d| d.iter()) {
            w.item(&k, &v)?;
        }
        Ok(())
    }
}

/// Sends one response's `http_metrics` through `ctx` with the response callback's fields:
/// written straight to msgpack for mite's own context, as `ctx.send(...)` for any other.
pub fn send_http_metrics(
    ctx: &Bound<'_, PyAny>,
    t: &Transfer,
    method: &[u8],
    extra: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let py = ctx.py();
    let extra = match extra {
        None => None,
        Some(e) => match e.cast::<PyDict>() {
            Ok(d) => Some(d.clone()),
            // Any mapping works with `**`, as in mite 2.11.
            Err(_) => Some(PyDict::from_sequence(
                &e.call_method0(intern!(py, "items"))?,
            )?),
        },
    };
    let extra = extra.filter(|e| !e.is_empty());
    if let Some(e) = &extra {
        for k in HTTP_NAMES {
            if e.contains(k)? {
                return Err(PyTypeError::new_err(format!(
                    "send() got multiple values for keyword argument '{k}'"
                )));
            }
        }
    }
    let fields = HttpMetrics {
        transfer: t,
        method,
        extra: extra.as_ref(),
    };
    match ctx.cast::<Context>() {
        Ok(native) => {
            native
                .get()
                .send_with(py, intern!(py, "http_metrics").as_any(), &fields, None)
        }
        Err(_) => {
            let kwargs = to_dict(py, &fields)?;
            ctx.call_method(intern!(py, "send"), ("http_metrics",), Some(&kwargs))?;
            Ok(())
        }
    }
}
