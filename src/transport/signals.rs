//! SIGINT/SIGTERM as a stop flag (and SIGUSR1 as a request), for components whose loop is native
//! and never returns to Python's signal handling while it runs.
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicI32 = AtomicI32::new(0);
static USR1: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(sig: libc::c_int) {
    STOP.store(sig, Ordering::SeqCst);
}

extern "C" fn on_usr1(_sig: libc::c_int) {
    USR1.store(true, Ordering::SeqCst);
}

fn install(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: the handlers only store to atomics, which is async-signal-safe.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler as usize;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(sig, &act, std::ptr::null_mut());
    }
}

/// From now on SIGINT and SIGTERM set the stop flag instead of ending the process.
pub fn catch_stop() {
    STOP.store(0, Ordering::SeqCst);
    install(libc::SIGINT, on_stop);
    install(libc::SIGTERM, on_stop);
}

/// Also catch SIGUSR1 (the duplicator's "dump the next messages").
pub fn catch_usr1() {
    install(libc::SIGUSR1, on_usr1);
}

/// The signal that asked to stop, if one did.
pub fn stop_requested() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Asks the loop to stop, as a signal would (used by tests and by callers that own the loop).
pub fn request_stop() {
    STOP.store(libc::SIGTERM, Ordering::SeqCst);
}

/// True once per SIGUSR1 received.
pub fn take_usr1() -> bool {
    USR1.swap(false, Ordering::SeqCst)
}
