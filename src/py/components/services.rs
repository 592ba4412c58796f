//! The distributed components' entry points for Python: native loops run with the GIL released;
//! `Socket` gives the Python-driven components (controller, runner, receiver) ZeroMQ without
//! holding the GIL while they wait.
use pyo3::exceptions::{PyOSError, PyValueError};

use super::errors::{duplicator_err, exporter_err, stats_err, transport_err};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::duplicator::{self, DuplicatorConfig};
use crate::exporter::{self, ExporterConfig};
use crate::stats::{self, Aggregator, External, Kind, Slot, Source, StatSpec, StatsConfig};
use crate::transport::{self, Counts, Role, Transport};

fn counts_dict<'py>(py: Python<'py>, c: &Counts) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("received", c.received)?;
    d.set_item("forwarded", c.forwarded)?;
    d.set_item("written", c.written)?;
    d.set_item("dropped", c.dropped())?;
    d.set_item("malformed", c.malformed)?;
    d.set_item("oversize", c.oversize)?;
    d.set_item("full", c.full)?;
    Ok(d)
}

/// `mite duplicator`: runs until SIGINT/SIGTERM; returns the totals.
#[pyfunction]
pub fn run_duplicator<'py>(
    py: Python<'py>,
    in_address: String,
    out_addresses: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = DuplicatorConfig {
        in_address,
        out_addresses,
    };
    let c = py
        .detach(|| duplicator::run(&cfg))
        .map_err(duplicator_err)?;
    counts_dict(py, &c)
}

/// `mite prometheus_exporter`.
#[pyfunction]
pub fn run_exporter<'py>(
    py: Python<'py>,
    stats_address: String,
    web_address: String,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = ExporterConfig {
        stats_address,
        web_address,
    };
    let c = py.detach(|| exporter::run(&cfg)).map_err(exporter_err)?;
    counts_dict(py, &c)
}

/// Python stats objects, fed and dumped on this (the main) thread while the loop waits.
struct PyStats {
    stats: Vec<Py<PyAny>>,
    failed: Vec<bool>,
}

impl External for PyStats {
    fn process(&mut self, frames: &[Vec<u8>]) {
        Python::attach(|py| {
            for raw in frames {
                let Ok(msg) = crate::py::support::decode::unpack(py, raw) else {
                    continue;
                };
                for (s, failed) in self.stats.iter().zip(self.failed.iter_mut()) {
                    if *failed {
                        continue;
                    }
                    if let Err(e) = s.bind(py).call_method1("process", (&msg,)) {
                        *failed = true;
                        crate::log!(
                            crate::report::log::Level::Error,
                            "mite.stats",
                            "process",
                            "stats processor {} raised {e}; it is skipped from now on",
                            s.bind(py)
                                .getattr("name")
                                .map(|n| n.to_string())
                                .unwrap_or_default()
                        );
                    }
                }
            }
        })
    }

    fn dump(&mut self) -> Vec<Vec<u8>> {
        Python::attach(|py| {
            self.stats
                .iter()
                .map(|s| {
                    s.bind(py)
                        .call_method0("dump")
                        .and_then(|d| crate::py::support::encode::pack(&d))
                        .unwrap_or_else(|_| vec![0xc0])
                })
                .collect()
        })
    }
}

/// `mite.stats.native_spec`'s tuple: (kind, name, types, labels, value_key, report_key, bins).
type SpecTuple = (
    String,
    String,
    Vec<String>,
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<Vec<f64>>,
);

fn parse_spec(t: &Bound<'_, PyAny>) -> PyResult<StatSpec> {
    let (kind, name, types, labels, value_key, report_key, bins): SpecTuple = t.extract()?;
    let kind = match kind.as_str() {
        "Counter" => Kind::Counter,
        "Accumulator" => Kind::Accumulator,
        "Gauge" => Kind::Gauge,
        "Histogram" => Kind::Histogram(bins.unwrap_or_default()),
        other => return Err(PyValueError::new_err(format!("unknown stat kind {other}"))),
    };
    let source = match report_key {
        Some(dict_key) => Source::Report { dict_key },
        None => Source::Fields {
            labels: labels.clone(),
            value_key,
        },
    };
    Ok(StatSpec {
        name,
        kind,
        types,
        labels,
        source,
    })
}

/// `mite stats`: `specs` are native stats as tuples, `python_stats` objects with
/// `process`/`dump`, `order` says which comes where in a dump: `("native"|"python", index)`.
#[pyfunction]
pub fn run_stats<'py>(
    py: Python<'py>,
    in_address: String,
    out_address: String,
    specs: &Bound<'py, PyList>,
    python_stats: Vec<Py<PyAny>>,
    order: Vec<(String, usize)>,
) -> PyResult<Bound<'py, PyDict>> {
    let specs = specs
        .iter()
        .map(|t| parse_spec(&t))
        .collect::<PyResult<Vec<_>>>()?;
    let order = order
        .into_iter()
        .map(|(k, i)| {
            if k == "native" {
                Slot::Native(i)
            } else {
                Slot::External(i)
            }
        })
        .collect();
    let agg = Aggregator::new(specs, order);
    let cfg = StatsConfig {
        in_address,
        out_address,
    };
    let r = if python_stats.is_empty() {
        py.detach(|| stats::run(&cfg, agg, None))
    } else {
        let n = python_stats.len();
        let mut ext = PyStats {
            stats: python_stats,
            failed: vec![false; n],
        };
        py.detach(|| stats::run(&cfg, agg, Some(&mut ext)))
    };
    counts_dict(py, &r.map_err(stats_err)?)
}

/// One ZeroMQ socket for Python code; every wait releases the GIL.
/// The frame limit every component applies (`MITE_MAX_FRAME_BYTES`, default 64 MiB), for the
/// Python side of the protocol to apply the same one.
#[pyfunction]
pub fn max_frame_bytes() -> usize {
    transport::max_frame_bytes()
}

#[pyclass(module = "mite._native")]
pub struct Socket {
    sock: std::sync::Mutex<Option<zmq::Socket>>,
    _transport: Transport,
    address: String,
}

#[pymethods]
impl Socket {
    /// `Socket("PULL"|"PUSH"|"REQ"|"REP", address, bind=False)`.
    #[new]
    #[pyo3(signature = (kind, address, bind=false))]
    fn new(kind: &str, address: String, bind: bool) -> PyResult<Self> {
        let k = match kind {
            "PULL" => zmq::SocketType::PULL,
            "PUSH" => zmq::SocketType::PUSH,
            "REQ" => zmq::SocketType::REQ,
            "REP" => zmq::SocketType::REP,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown socket kind {other}"
                )))
            }
        };
        let t = Transport::new();
        let role = if bind { Role::Bind } else { Role::Connect };
        let sock = t.socket(k, &address, role).map_err(transport_err)?;
        Ok(Socket {
            sock: std::sync::Mutex::new(Some(sock)),
            _transport: t,
            address,
        })
    }

    #[getter]
    fn address(&self) -> &str {
        &self.address
    }

    /// Frames waiting now, after waiting up to `timeout_ms` for the first (empty list if none).
    #[pyo3(signature = (timeout_ms, max=1024))]
    fn recv_batch<'py>(
        &self,
        py: Python<'py>,
        timeout_ms: i64,
        max: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let frames = py
            .detach(|| self.with(|sock| transport::recv_burst(sock, timeout_ms, max)))?
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        PyList::new(py, frames.iter().map(|f| PyBytes::new(py, f)))
    }

    /// One frame, or None after `timeout_ms` (-1 waits for ever).
    fn recv<'py>(&self, py: Python<'py>, timeout_ms: i64) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let got = py.detach(|| {
            self.with(|sock| -> Result<Option<Vec<u8>>, zmq::Error> {
                match sock.poll(zmq::POLLIN, timeout_ms) {
                    Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
                sock.recv_bytes(0).map(Some)
            })
        })?;
        match got {
            Ok(f) => Ok(f.map(|f| PyBytes::new(py, &f))),
            Err(e) => Err(PyOSError::new_err(e.to_string())),
        }
    }

    /// Sends a frame; False if it could not be queued within `timeout_ms` (-1 waits for ever).
    #[pyo3(signature = (frame, timeout_ms=-1))]
    fn send(&self, py: Python<'_>, frame: &[u8], timeout_ms: i64) -> PyResult<bool> {
        py.detach(|| {
            self.with(|sock| -> Result<bool, zmq::Error> {
                if timeout_ms >= 0 && sock.poll(zmq::POLLOUT, timeout_ms)? == 0 {
                    return Ok(false);
                }
                sock.send(frame, 0).map(|_| true)
            })
        })?
        .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// Closes the socket; a PUSH socket first gets `linger_ms` to deliver what it holds.
    #[pyo3(signature = (linger_ms=transport::LINGER_MS))]
    fn close(&self, py: Python<'_>, linger_ms: i32) {
        if let Some(s) = self.sock.lock().expect("socket lock").take() {
            let _ = s.set_linger(linger_ms);
            py.detach(move || drop(s));
        }
    }
}

impl Socket {
    /// Runs `f` on the open socket (callers hold no GIL; one Python thread uses a socket).
    fn with<T>(&self, f: impl FnOnce(&zmq::Socket) -> T) -> PyResult<T> {
        let guard = self.sock.lock().expect("socket lock");
        match guard.as_ref() {
            Some(s) => Ok(f(s)),
            None => Err(PyOSError::new_err("socket is closed")),
        }
    }
}
