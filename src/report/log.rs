//! Log lines on stderr in the layout mite's Python logging uses, filtered by `--log-level`.
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Python logging's numeric levels, divided by ten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// Parses a `--log-level` value (any case).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARNING" | "WARN" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" => Level::Critical,
            _ => return None,
        })
    }
}

static THRESHOLD: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the lowest level that is printed.
pub fn set_level(level: Level) {
    THRESHOLD.store(level as u8, Ordering::Relaxed);
}

/// True when a line at `level` would be printed.
pub fn enabled(level: Level) -> bool {
    level as u8 >= THRESHOLD.load(Ordering::Relaxed)
}

/// Seconds since the epoch, as Python's `time.time()`.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `asctime` as Python logging formats it: local time, `YYYY-MM-DD HH:MM:SS,mmm`.
pub fn asctime(t: f64) -> String {
    let secs = t.floor() as libc::time_t;
    let millis = ((t - t.floor()) * 1000.0) as u32;
    // SAFETY: localtime_r only writes into the zeroed struct we own.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

/// Where a native log line comes from, shown where Python shows pathname, line and function.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub file: &'static str,
    pub line: u32,
    pub func: &'static str,
}

/// Writes one log line to stderr if `level` passes the threshold.
pub fn emit(level: Level, logger: &str, origin: Origin, msg: &str) {
    if !enabled(level) {
        return;
    }
    let line = format!(
        "[{}] <{}> [{}] [{}:{} {}] {}\n",
        asctime(unix_now()),
        level.name(),
        logger,
        origin.file,
        origin.line,
        origin.func,
        msg
    );
    super::progress::write_stderr(line.as_bytes());
}

/// `log!(Level::Info, "Http Stats", "print_output", "text {}", x)`
#[macro_export]
macro_rules! log {
    ($level:expr, $logger:expr, $func:expr, $($arg:tt)+) => {
        if $crate::report::log::enabled($level) {
            $crate::report::log::emit(
                $level,
                $logger,
                $crate::report::log::Origin { file: file!(), line: line!(), func: $func },
                &format!($($arg)+),
            )
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("debug"), Some(Level::Debug));
        assert_eq!(Level::parse("CRITICAL"), Some(Level::Critical));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Warning > Level::Info);
    }

    #[test]
    fn asctime_has_python_layout() {
        let s = asctime(1_700_000_000.25);
        assert_eq!(s.len(), 23, "{s}");
        assert_eq!(&s[19..], ",250");
    }
}
