//! `mite prometheus_exporter`: PULLs stats dumps (bound at `--stats-out-socket`), merges them,
//! and serves the totals at `GET /metrics` on `--web-address` (loopback by default).
mod error;
mod guard;
mod http;
mod model;
mod service;
mod text;

pub use error::Error;
pub use http::parse_address;
pub use model::{Merged, Model};
pub use text::render;

use std::sync::{Arc, Mutex};

use zmq::SocketType;

use crate::report::log::Level;
use crate::transport::{self, signals, Counts, Role, Transport};
use crate::{log, log_throttled};

const LOGGER: &str = "mite.web.prometheus";

pub struct ExporterConfig {
    pub stats_address: String,
    pub web_address: String,
}

/// Runs until SIGINT/SIGTERM. `received` counts dumps messages, `written` those merged.
pub fn run(cfg: &ExporterConfig) -> Result<Counts, Error> {
    let transport = Transport::new();
    let input = transport.socket(SocketType::PULL, &cfg.stats_address, Role::Bind)?;
    let model = Arc::new(Mutex::new(Model::default()));
    let local = http::serve(&cfg.web_address, model.clone())?;
    log!(
        Level::Info,
        LOGGER,
        "run",
        "serving /metrics on http://{local}/metrics"
    );
    signals::catch_stop();
    let max = transport::max_frame_bytes();
    let mut counts = Counts::default();
    while signals::stop_requested().is_none() {
        let frames = transport::recv_burst(&input, 100, 256)
            .map_err(|e| transport::Error::recv(&cfg.stats_address, e))?;
        for raw in frames {
            if !transport::admit(&raw, max, &mut counts, LOGGER) {
                continue;
            }
            let Ok(msg) = rmpv::decode::read_value(&mut &raw[..]) else {
                counts.malformed += 1;
                continue;
            };
            match model.lock().expect("model lock").merge(&msg) {
                Merged::Ok => counts.written += 1,
                Merged::NotDumps => {
                    counts.malformed += 1;
                    log_throttled!(
                        Level::Warning,
                        LOGGER,
                        "run",
                        "skipped a message that is not a list of stats dumps",
                        "skipped a message that is not a list of stats dumps"
                    );
                }
                Merged::BadName(name) => {
                    counts.refused += 1;
                    log_throttled!(
                        Level::Warning,
                        LOGGER,
                        "run",
                        "left out a stat whose name is not a Prometheus name",
                        "left out stat {name:?}: its name or a label name is not a Prometheus name"
                    );
                }
            }
        }
    }
    crate::report::throttle::flush();
    log!(Level::Info, LOGGER, "run", "{}", counts.line(&[]));
    Ok(counts)
}
