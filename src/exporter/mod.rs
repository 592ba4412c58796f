//! `mite prometheus_exporter`: PULLs stats dumps (bound at `--stats-out-socket`), merges them,
//! and serves the totals at `GET /metrics` on `--web-address` (loopback by default).
mod http;
mod model;
mod text;

pub use http::parse_address;
pub use model::Model;
pub use text::render;

use std::sync::{Arc, Mutex};

use zmq::SocketType;

use crate::log;
use crate::report::log::Level;
use crate::transport::{self, signals, Counts, Role, Transport};

const LOGGER: &str = "mite.web.prometheus";

pub struct ExporterConfig {
    pub stats_address: String,
    pub web_address: String,
}

/// Runs until SIGINT/SIGTERM. `received` counts dumps messages, `written` those merged.
pub fn run(cfg: &ExporterConfig) -> Result<Counts, String> {
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
            .map_err(|e| format!("receiving from {}: {e}", cfg.stats_address))?;
        for raw in frames {
            if !transport::admit(&raw, max, &mut counts, LOGGER) {
                continue;
            }
            let Ok(msg) = rmpv::decode::read_value(&mut &raw[..]) else {
                counts.malformed += 1;
                continue;
            };
            if model.lock().expect("model lock").merge(&msg) {
                counts.written += 1;
            } else {
                counts.malformed += 1;
                log!(
                    Level::Warning,
                    LOGGER,
                    "run",
                    "skipped a message that is not a list of stats dumps"
                );
            }
        }
    }
    log!(Level::Info, LOGGER, "run", "{}", counts.line(&[]));
    Ok(counts)
}
