//! The engine driven from the event loop's own thread (acurl's design): the loop watches the
//! epoll descriptor with `add_reader` and calls `pump`; no second thread, no hand-over. Kept beside
//! the threaded engine so both designs can be measured on the same benchmark.
use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use curl::multi::Multi;

use super::engine::{Command, Completion, SessionId};
use super::poller::{Epoll, Ready};
use super::request::RequestSpec;
use super::worker::Worker;

pub struct InlineEngine {
    worker: Worker,
    epoll: Epoll,
    deadline: Arc<Mutex<Option<Instant>>>,
    done: Arc<Mutex<Vec<Completion>>>,
    ready: Vec<Ready>,
    next_session: SessionId,
}

impl InlineEngine {
    pub fn start() -> io::Result<InlineEngine> {
        let epoll = Epoll::new()?;
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut worker = Worker::new(Multi::new(), done.clone(), None);
        let deadline = worker.install(epoll.raw());
        Ok(InlineEngine {
            worker,
            epoll,
            deadline,
            done,
            ready: Vec::with_capacity(64),
            next_session: 1,
        })
    }

    /// Readable when a socket libcurl watches is ready.
    pub fn fd(&self) -> RawFd {
        self.epoll.raw()
    }

    /// Adds a transfer; it starts at the next `pump` (one per loop iteration with requests).
    pub fn submit(&mut self, token: u64, session: SessionId, spec: &RequestSpec, start_time: i64) {
        self.worker.start(token, session, spec, start_time);
    }

    /// Drives whatever is ready now, without waiting.
    pub fn pump(&mut self) {
        self.worker
            .poll_once(&self.epoll, 0, &mut self.ready, &self.deadline, None);
    }

    pub fn take_done(&self) -> Vec<Completion> {
        std::mem::take(&mut *self.done.lock().expect("completion lock"))
    }

    /// When libcurl next wants `pump` called although no socket is ready.
    pub fn next_timer(&self) -> Option<Instant> {
        *self.deadline.lock().expect("timer lock")
    }

    pub fn open_session(&mut self) -> SessionId {
        self.next_session += 1;
        self.next_session
    }

    pub fn close_session(&mut self, session: SessionId) {
        self.worker.command(Command::CloseSession(session));
    }

    pub fn cookies(&mut self, session: SessionId) -> Vec<String> {
        self.worker.cookie_lines(session)
    }

    pub fn erase_cookies(&mut self, session: SessionId) {
        self.worker.command(Command::EraseCookies(session));
    }
}
