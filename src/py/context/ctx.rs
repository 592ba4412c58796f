//! `mite.context.Context`: what a journey sees as `ctx` — config, `send`, nested transactions.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use super::sink::MessageSink;
use crate::py::message::{to_dict, Kwargs, MessageFields, MsgpackWriter};
use crate::py::support::encode::{pack, write_obj, write_str};
use crate::py::support::txnvar;
use crate::report::log::unix_now;

/// Where a context's messages go.
pub enum Target {
    /// Encoded here, once, and queued for the pipeline thread.
    Native(Py<MessageSink>),
    /// A Python callable given the message dict (as mite 2.11's `Context(send_fn, ...)`).
    Python(Py<PyAny>),
}

/// The names of the id fields the runner gives every context, in mite 2.11's order.
pub const RUNNER_ID_KEYS: [&str; 6] = [
    "test",
    "runner_id",
    "journey",
    "context_id",
    "scenario_id",
    "scenario_data_id",
];

/// Key names: the runner's six (shared, no allocation per context) or a user's own.
pub enum Keys {
    Runner,
    Custom(Vec<String>),
}

impl Keys {
    fn names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            Keys::Runner => Box::new(RUNNER_ID_KEYS.iter().copied()),
            Keys::Custom(v) => Box::new(v.iter().map(String::as_str)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Keys::Runner => RUNNER_ID_KEYS.len(),
            Keys::Custom(v) => v.len(),
        }
    }
}

/// The id fields a context adds to every message, kept as values and as pre-encoded msgpack.
pub struct Ids {
    keys: Keys,
    values: Vec<Py<PyAny>>,
    encoded: Vec<u8>,
}

impl Ids {
    /// Encodes the items once; every message then copies the bytes.
    pub fn runner(values: Vec<Py<PyAny>>, py: Python<'_>) -> PyResult<Self> {
        let keys = Keys::Runner;
        let mut encoded = Vec::with_capacity(96);
        for (k, v) in keys.names().zip(&values) {
            write_str(&mut encoded, k);
            write_obj(&mut encoded, v.bind(py))?;
        }
        Ok(Ids {
            keys,
            values,
            encoded,
        })
    }

    /// The same from a user's dict (keys need not be strings).
    pub fn from_dict(dict: &Bound<'_, PyDict>) -> PyResult<Self> {
        let mut encoded = Vec::with_capacity(96);
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        for (k, v) in dict.iter() {
            write_obj(&mut encoded, &k)?;
            write_obj(&mut encoded, &v)?;
            keys.push(k.str()?.to_string());
            values.push(v.unbind());
        }
        Ok(Ids {
            keys: Keys::Custom(keys),
            values,
            encoded,
        })
    }

    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.keys.names().zip(&self.values) {
            d.set_item(k, v.bind(py))?;
        }
        Ok(d)
    }

    fn has_key(&self, key: &str) -> bool {
        self.keys.names().any(|k| k == key)
    }
}

/// What `ctx.should_stop` asks.
pub enum StopSource {
    Never,
    Flag(Arc<AtomicBool>),
    Callable(Py<PyAny>),
}

const RESERVED: [&str; 4] = ["type", "time", "transaction", "transaction_id"];

#[pyclass(dict, subclass, frozen, module = "mite.context", name = "Context")]
pub struct Context {
    target: Target,
    config: Py<PyAny>,
    ids: Ids,
    stop: StopSource,
    pub(crate) debug: bool,
    next_txn: AtomicU64,
    /// The event loop the runner runs this context's journey on, and the thread running it.
    event_loop: Option<(Py<PyAny>, std::thread::ThreadId)>,
}

impl Context {
    /// A context made by the runner, sending straight into the native pipeline.
    pub fn native(
        target: Target,
        config: Py<PyAny>,
        ids: Ids,
        stop: StopSource,
        debug: bool,
    ) -> Self {
        Context {
            target,
            config,
            ids,
            stop,
            debug,
            next_txn: AtomicU64::new(1),
            event_loop: None,
        }
    }

    /// The same, for a journey the runner runs on `event_loop` from this thread.
    pub fn on_loop(mut self, event_loop: Option<Py<PyAny>>) -> Self {
        self.event_loop = event_loop.map(|l| (l, std::thread::current().id()));
        self
    }

    /// The loop running this context's journey, when that is known without asking asyncio:
    /// the runner's, as long as the caller is on the runner's thread (a thread runs one loop
    /// at a time, and the runner's runs for as long as its contexts are in use).
    ///
    /// NOTE: `@mite_http` asks this first; `asyncio.get_running_loop()` makes a `getpid`
    /// system call in CPython 3.11, which was one per journey on the loop thread.
    pub fn known_loop<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        match &self.event_loop {
            Some((l, thread)) if *thread == std::thread::current().id() => Some(l.bind(py).clone()),
            _ => None,
        }
    }

    /// Takes the next transaction id (they count from 1 per context).
    pub fn next_txn_id(&self) -> u64 {
        self.next_txn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a message; `txn` overrides the transaction read from the ContextVar.
    pub fn send_with<'py, F: MessageFields<'py>>(
        &self,
        py: Python<'py>,
        msg_type: &Bound<'_, PyAny>,
        fields: &F,
        txn: Option<(&Bound<'_, PyAny>, &Bound<'_, PyAny>)>,
    ) -> PyResult<()> {
        let current;
        let (txn_name, txn_id) = match txn {
            Some((n, i)) => (n.clone(), i.clone()),
            None => {
                current = txnvar::get(py)?;
                match current.as_ref().and_then(|c| c.cast::<PyTuple>().ok()) {
                    Some(t) if t.len() == 2 => (t.get_item(0)?, t.get_item(1)?),
                    _ => (py.None().into_bound(py), py.None().into_bound(py)),
                }
            }
        };
        let now = unix_now();
        let collides = fields.user_fields().is_some_and(|f| {
            f.iter().any(
                |(k, _)| match k.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) {
                    Some(k) => RESERVED.contains(&k) || self.ids.has_key(k),
                    None => true,
                },
            )
        });
        match &self.target {
            Target::Native(sink) if !collides => {
                let n = (fields.count() + 4 + self.ids.keys.len()) as u32;
                let mut out = Vec::with_capacity(160 + self.ids.encoded.len());
                rmp::encode::write_map_len(&mut out, n).expect("Vec write");
                fields.write(&mut MsgpackWriter(&mut out))?;
                write_str(&mut out, "type");
                write_obj(&mut out, msg_type)?;
                write_str(&mut out, "time");
                rmp::encode::write_f64(&mut out, now).expect("Vec write");
                out.extend_from_slice(&self.ids.encoded);
                write_str(&mut out, "transaction");
                write_obj(&mut out, &txn_name)?;
                write_str(&mut out, "transaction_id");
                write_obj(&mut out, &txn_id)?;
                sink.get().push(out);
                Ok(())
            }
            target => {
                // The dict path keeps Python's key order when a field repeats an id key.
                let d = to_dict(py, fields)?;
                d.set_item("type", msg_type)?;
                d.set_item("time", now)?;
                d.update(self.ids.dict(py)?.as_mapping())?;
                d.set_item("transaction", txn_name)?;
                d.set_item("transaction_id", txn_id)?;
                match target {
                    Target::Native(sink) => sink.get().push(pack(d.as_any())?),
                    Target::Python(f) => {
                        f.bind(py).call1((d,))?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[pymethods]
impl Context {
    #[new]
    #[pyo3(signature = (send_fn, config, id_data=None, should_stop_func=None, debug=false))]
    fn py_new(
        send_fn: &Bound<'_, PyAny>,
        config: Py<PyAny>,
        id_data: Option<Bound<'_, PyDict>>,
        should_stop_func: Option<Py<PyAny>>,
        debug: bool,
    ) -> PyResult<Self> {
        let py = send_fn.py();
        let target = match send_fn.cast::<MessageSink>() {
            Ok(sink) => Target::Native(sink.clone().unbind()),
            Err(_) => Target::Python(send_fn.clone().unbind()),
        };
        let ids = Ids::from_dict(&id_data.unwrap_or_else(|| PyDict::new(py)))?;
        let stop = should_stop_func.map_or(StopSource::Never, StopSource::Callable);
        Ok(Context::native(target, config, ids, stop, debug))
    }

    #[getter]
    fn config(&self, py: Python<'_>) -> Py<PyAny> {
        self.config.clone_ref(py)
    }

    #[getter]
    fn _config(&self, py: Python<'_>) -> Py<PyAny> {
        self.config.clone_ref(py)
    }

    #[getter]
    fn _id_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.ids.dict(py)
    }

    #[getter]
    fn _debug(&self) -> bool {
        self.debug
    }

    #[getter]
    fn should_stop(&self, py: Python<'_>) -> PyResult<bool> {
        match &self.stop {
            StopSource::Never => Ok(false),
            StopSource::Flag(f) => Ok(f.load(Ordering::Relaxed)),
            StopSource::Callable(f) => f.bind(py).call0()?.is_truthy(),
        }
    }

    /// `(name, id)` of the open transaction, or `(None, None)`.
    #[getter]
    fn _active_transaction<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match txnvar::get(py)? {
            Some(v) => Ok(v),
            None => Ok(PyTuple::new(py, [py.None(), py.None()])?.into_any()),
        }
    }

    #[pyo3(signature = (r#type, **msg))]
    fn send(
        &self,
        py: Python<'_>,
        r#type: &Bound<'_, PyAny>,
        msg: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.send_with(py, r#type, &Kwargs(msg), None)
    }
}
