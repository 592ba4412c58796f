//! Repeated warnings, rate-limited: the first few of a kind in each window are logged, the rest
//! counted and reported as one line, so a flood of bad frames cannot flood the log.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::log::{emit, enabled, Level, Origin};

/// Lines of one kind logged per window before the rest are counted instead.
const BURST: u32 = 5;
const WINDOW: Duration = Duration::from_secs(10);

struct Kind {
    level: Level,
    logger: String,
    origin: Origin,
    started: Instant,
    shown: u32,
    suppressed: u64,
}

static KINDS: Mutex<Option<HashMap<String, Kind>>> = Mutex::new(None);

fn summary(k: &Kind, key: &str) -> String {
    format!(
        "{} more like \"{key}\" were not logged in the last {} s",
        k.suppressed,
        WINDOW.as_secs()
    )
}

/// Logs `msg` unless `key` (the kind of message, without its varying parts) was logged
/// `BURST` times in the current window; a new window first reports what was held back.
pub fn log_throttled(level: Level, logger: &str, origin: Origin, key: &str, msg: &str) {
    if !enabled(level) {
        return;
    }
    let mut guard = KINDS.lock().expect("throttle lock");
    let kinds = guard.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    let k = kinds.entry(key.to_string()).or_insert_with(|| Kind {
        level,
        logger: logger.to_string(),
        origin,
        started: now,
        shown: 0,
        suppressed: 0,
    });
    if now.duration_since(k.started) >= WINDOW {
        if k.suppressed > 0 {
            emit(k.level, &k.logger, k.origin, &summary(k, key));
        }
        k.started = now;
        k.shown = 0;
        k.suppressed = 0;
    }
    if k.shown < BURST {
        k.shown += 1;
        emit(level, logger, origin, msg);
    } else {
        k.suppressed += 1;
    }
}

/// Reports every count still held back (at shutdown, before the `totals:` line).
pub fn flush() {
    let mut guard = KINDS.lock().expect("throttle lock");
    if let Some(kinds) = guard.as_mut() {
        for (key, k) in kinds.iter_mut() {
            if k.suppressed > 0 {
                emit(k.level, &k.logger, k.origin, &summary(k, key));
                k.suppressed = 0;
            }
            k.shown = 0;
        }
    }
}

/// `log_throttled!(Level::Warning, logger, "run", "key", "text {}", x)`
#[macro_export]
macro_rules! log_throttled {
    ($level:expr, $logger:expr, $func:expr, $key:expr, $($arg:tt)+) => {
        if $crate::report::log::enabled($level) {
            $crate::report::throttle::log_throttled(
                $level,
                $logger,
                $crate::report::log::Origin { file: file!(), line: line!(), func: $func },
                $key,
                &format!($($arg)+),
            )
        }
    };
}
