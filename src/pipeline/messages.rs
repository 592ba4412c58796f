//! What the pipeline does with one message: count it, record it, log it.
use rmpv::Value;

use super::Worker;
use crate::bus::pyfmt::py_str;
use crate::log;
use crate::recorder::Outcome;
use crate::report::console::REQUEST_TYPES;
use crate::report::log::{enabled, unix_now, Level};
use crate::results::Message;

impl Worker {
    pub(super) fn dispatch(&mut self, raw: &[u8]) {
        let Some(f) = Message::parse(raw) else {
            self.totals.malformed += 1;
            return;
        };
        let Some(msg_type) = f.msg_type else { return };
        let now = unix_now();
        if let Some(r) = self.results.as_mut() {
            r.add(&f, now);
        }
        self.stats.seen(now);
        if REQUEST_TYPES.contains(&msg_type) {
            self.stats.request(
                now,
                f.total_time.unwrap_or(0.0),
                f.download_size.unwrap_or(0.0),
            );
        } else if msg_type == "error" || msg_type == "exception" {
            self.stats.error(now, f.journey);
        } else if let (Some(p), "controller_report") = (self.stats.live.as_mut(), msg_type) {
            p.controller_report(raw);
        } else if msg_type == "data_created" || msg_type == "purge_data" {
            self.record(raw, msg_type);
        } else if msg_type == "debug_console_message" {
            if let Some(text) = f.text.filter(|t| !t.is_empty()) {
                log!(Level::Info, "Debug Logger", "process_message", "{text}");
            }
        }
        if self.cfg.log_messages
            && (f.has_stacktrace && enabled(Level::Warning) || enabled(Level::Debug))
        {
            log_message(raw, f.has_stacktrace);
        }
    }

    fn record(&mut self, raw: &[u8], msg_type: &str) {
        let Some(rec) = self.recorder.as_mut() else {
            return;
        };
        match rec.process(raw, msg_type) {
            Outcome::Appended => self.totals.recorded += 1,
            Outcome::Refused => self.totals.refused += 1,
            Outcome::Failed => self.totals.io_errors += 1,
            Outcome::Ignored | Outcome::Purged => {}
        }
    }
}

/// MsgOutput's layout: `[type] time k=v, ...` and, for exceptions, the type, message and trace.
fn log_message(raw: &[u8], has_stacktrace: bool) {
    let Ok(Value::Map(entries)) = rmpv::decode::read_value(&mut &raw[..]) else {
        return;
    };
    let mut rest: Vec<(String, String)> = Vec::new();
    let (mut msg_type, mut time, mut message, mut ex_type, mut stacktrace) = (
        String::from("None"),
        String::from("None"),
        String::from("None"),
        String::from("None"),
        String::new(),
    );
    for (k, v) in &entries {
        let key = py_str(k);
        match key.as_str() {
            "type" => msg_type = py_str(v),
            "time" => {
                time = v
                    .as_f64()
                    .map(|t| format!("{t:.6}"))
                    .unwrap_or_else(|| py_str(v))
            }
            "message" if has_stacktrace => message = py_str(v),
            "ex_type" if has_stacktrace => ex_type = py_str(v),
            "stacktrace" if has_stacktrace => stacktrace = py_str(v),
            _ => rest.push((key, py_str(v))),
        }
    }
    rest.sort();
    let fields: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let head = format!("[{msg_type}] {time} {}", fields.join(", "));
    if has_stacktrace {
        log!(
            Level::Warning,
            "MSG",
            "process_message",
            "{head}\n{ex_type}: {message}\n{stacktrace}"
        );
    } else {
        log!(Level::Debug, "MSG", "process_message", "{head}");
    }
}
