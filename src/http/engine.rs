//! The engine thread: owns the libcurl multi handle, every easy handle and every cookie jar.
//! Requests arrive over a channel (plus an eventfd wake-up when the thread sleeps); sockets are
//! driven by epoll and `curl_multi_socket_action`; finished transfers are queued and the loop
//! thread is woken through another eventfd only when the queue goes from empty to non-empty.
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use curl::easy::Easy2;
use curl::multi::{Easy2Handle, Events, Multi};

use super::cookies::Jar;
use super::poller::{Epoll, Ready};
use super::request::RequestSpec;
use super::transfer::{configure, extract, Collect, Transfer, TransferError};

/// Identifies a session (its cookie jar) on the engine thread.
pub type SessionId = u64;

/// One finished request, for the loop thread.
pub struct Completion {
    pub token: u64,
    pub result: Result<Transfer, TransferError>,
}

pub(super) enum Command {
    Submit {
        token: u64,
        session: SessionId,
        spec: Box<RequestSpec>,
        start_time: i64,
    },
    CloseSession(SessionId),
    Cookies {
        session: SessionId,
        reply: Sender<Vec<String>>,
    },
    EraseCookies(SessionId),
    Shutdown,
}

/// The loop-thread handle of an engine thread.
pub struct Engine {
    commands: Sender<Command>,
    /// Wakes the engine thread's epoll.
    wake: Arc<OwnedFd>,
    /// Set by the engine thread just before it sleeps: only then does a sender wake it.
    sleeping: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<Completion>>>,
    efd: Arc<OwnedFd>,
    next_session: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn signal(fd: &OwnedFd) {
    // Both eventfds (engine wake-up, completions) are woken the same way.
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to our eventfd.
    unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

impl Engine {
    /// Starts the engine thread.
    pub fn start() -> io::Result<Engine> {
        let efd = Arc::new(eventfd()?);
        let done = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = crossbeam_channel::unbounded();
        let (done2, efd2) = (done.clone(), efd.clone());
        let sleeping = Arc::new(AtomicBool::new(false));
        let sleeping2 = sleeping.clone();
        let wake = Arc::new(eventfd()?);
        let wake2 = wake.clone();
        let epoll = Epoll::new()?;
        let thread = std::thread::Builder::new()
            .name("mite-http".into())
            .spawn(move || {
                Worker::new(Multi::new(), done2, Some(efd2)).run(rx, &sleeping2, &epoll, &wake2);
            })?;
        Ok(Engine {
            commands: tx,
            wake,
            sleeping,
            done,
            efd,
            next_session: AtomicU64::new(1),
            thread: Some(thread),
        })
    }

    fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
        // NOTE: one wake-up syscall per batch of requests instead of one per request; the
        // engine thread re-checks the queue after raising `sleeping`, so none is missed.
        if self.sleeping.swap(false, Ordering::SeqCst) {
            signal(&self.wake);
        }
    }

    /// The descriptor that becomes readable when transfers have finished.
    pub fn fd(&self) -> RawFd {
        self.efd.as_raw_fd()
    }

    /// Queues a request; its completion carries `token`.
    pub fn submit(&self, token: u64, session: SessionId, spec: RequestSpec, start_time: i64) {
        self.send(Command::Submit {
            token,
            session,
            spec: Box::new(spec),
            start_time,
        });
    }

    /// A new, empty cookie jar (made on the engine thread when first used).
    pub fn open_session(&self) -> SessionId {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Drops a jar once its transfers are done. Needs no wake-up: it waits for the next one.
    pub fn close_session(&self, session: SessionId) {
        let _ = self.commands.send(Command::CloseSession(session));
    }

    /// The jar's cookies as Netscape cookie-file lines (waits for the engine thread).
    pub fn cookies(&self, session: SessionId) -> Vec<String> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Command::Cookies { session, reply: tx });
        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default()
    }

    /// Empties a jar.
    pub fn erase_cookies(&self, session: SessionId) {
        self.send(Command::EraseCookies(session));
    }

    /// Every transfer finished since the last call.
    pub fn take_done(&self) -> Vec<Completion> {
        let mut counter = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a live buffer; EAGAIN when nothing is pending.
        unsafe { libc::read(self.efd.as_raw_fd(), counter.as_mut_ptr().cast(), 8) };
        std::mem::take(&mut *self.done.lock().expect("completion lock"))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Active {
    handle: Easy2Handle<Collect>,
    token: u64,
    session: SessionId,
    start_time: i64,
}

pub(super) struct Worker {
    multi: Multi,
    done: Arc<Mutex<Vec<Completion>>>,
    /// Woken when completions arrive; `None` when the loop thread drives the worker itself.
    efd: Option<Arc<OwnedFd>>,
    active: HashMap<usize, Active>,
    next_slot: usize,
    pool: Vec<Easy2<Collect>>,
    jars: HashMap<SessionId, (Jar, usize)>,
    closing: Vec<SessionId>,
}

impl Worker {
    pub(super) fn new(
        multi: Multi,
        done: Arc<Mutex<Vec<Completion>>>,
        efd: Option<Arc<OwnedFd>>,
    ) -> Self {
        let mut multi = multi;
        // NOTE: as acurl: keep up to 1000 idle connections for reuse; multiplex HTTP/2.
        let _ = multi.set_max_connects(1000);
        let _ = multi.pipelining(false, true);
        Worker {
            multi,
            done,
            efd,
            active: HashMap::new(),
            next_slot: 1,
            pool: Vec::new(),
            jars: HashMap::new(),
            closing: Vec::new(),
        }
    }

    /// Lets libcurl tell epoll which sockets to watch, and tell us when to call `timeout()`.
    pub(super) fn install(&mut self, epfd: RawFd) -> Arc<Mutex<Option<Instant>>> {
        let _ = self.multi.socket_function(move |socket, events, _| {
            if events.remove() {
                Epoll::forget(epfd, socket);
            } else {
                Epoll::watch(
                    epfd,
                    socket,
                    events.input() || events.input_and_output(),
                    events.output() || events.input_and_output(),
                );
            }
        });
        // libcurl asks for a call to `timeout()` at this deadline (None: no timer pending).
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let d2 = deadline.clone();
        let _ = self.multi.timer_function(move |t| {
            *d2.lock().expect("timer lock") = t.map(|t| Instant::now() + t);
            true
        });
        deadline
    }

    /// Waits up to `timeout_ms` for ready sockets, drives them, fires a due timer, and queues
    /// what finished. `wake` is the engine thread's own wake-up descriptor, if any.
    pub(super) fn poll_once(
        &mut self,
        epoll: &Epoll,
        timeout_ms: i32,
        ready: &mut Vec<Ready>,
        deadline: &Mutex<Option<Instant>>,
        wake: Option<(RawFd, &AtomicBool)>,
    ) {
        epoll.wait(ready, timeout_ms);
        if let Some((_, sleeping)) = wake {
            sleeping.store(false, Ordering::SeqCst);
        }
        for r in ready.iter() {
            if wake.is_some_and(|(fd, _)| fd == r.fd) {
                let mut counter = [0u8; 8];
                // SAFETY: reads at most 8 bytes into a live buffer (resets the eventfd).
                unsafe { libc::read(r.fd, counter.as_mut_ptr().cast(), 8) };
                continue;
            }
            let mut ev = Events::new();
            ev.input(r.readable).output(r.writable).error(r.error);
            let _ = self.multi.action(r.fd, &ev);
        }
        let expired = deadline
            .lock()
            .expect("timer lock")
            .is_some_and(|at| at <= Instant::now());
        if expired {
            *deadline.lock().expect("timer lock") = None;
            let _ = self.multi.timeout();
        }
        self.collect_finished();
    }

    fn run(mut self, rx: Receiver<Command>, sleeping: &AtomicBool, epoll: &Epoll, wake: &OwnedFd) {
        let epfd = epoll.raw();
        Epoll::watch(epfd, wake.as_raw_fd(), true, false);
        let deadline = self.install(epfd);
        let mut ready: Vec<Ready> = Vec::with_capacity(64);
        loop {
            while let Ok(cmd) = rx.try_recv() {
                if !self.command(cmd) {
                    return;
                }
            }
            let due = *deadline.lock().expect("timer lock");
            let timeout_ms = match due {
                None => 1000,
                Some(at) => at
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(1000) as i32,
            };
            sleeping.store(true, Ordering::SeqCst);
            let timeout_ms = if rx.is_empty() { timeout_ms } else { 0 };
            self.poll_once(
                epoll,
                timeout_ms,
                &mut ready,
                &deadline,
                Some((wake.as_raw_fd(), sleeping)),
            );
        }
    }

    /// Handles one command; false means stop.
    pub(super) fn command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Submit {
                token,
                session,
                spec,
                start_time,
            } => self.start(token, session, &spec, start_time),
            Command::CloseSession(id) => self.closing.push(id),
            Command::Cookies { session, reply } => {
                let _ = reply.send(self.cookie_lines(session));
            }
            Command::EraseCookies(session) => {
                let mut easy = self
                    .pool
                    .pop()
                    .unwrap_or_else(|| Easy2::new(Collect::default()));
                if let Some((jar, _)) = self.jars.get(&session) {
                    jar.attach(easy.raw());
                    let _ = easy.cookie_list("ALL");
                }
                super::cookies::detach(easy.raw());
                easy.reset();
                self.pool.push(easy);
            }
            Command::Shutdown => return false,
        }
        self.close_idle_jars();
        true
    }

    pub(super) fn start(
        &mut self,
        token: u64,
        session: SessionId,
        spec: &RequestSpec,
        start_time: i64,
    ) {
        let mut easy = self
            .pool
            .pop()
            .unwrap_or_else(|| Easy2::new(Collect::default()));
        let (jar, users) = self.jars.entry(session).or_insert_with(|| (Jar::new(), 0));
        jar.attach(easy.raw());
        *users += 1;
        let added = configure(&mut easy, spec)
            .map_err(TransferError::from)
            .and_then(|()| {
                let mut handle = self.multi.add2(easy).map_err(|e| TransferError {
                    code: e.code() as u32,
                    message: e.description().to_string(),
                })?;
                let slot = self.next_slot;
                self.next_slot += 1;
                handle.set_token(slot).map_err(TransferError::from)?;
                self.active.insert(
                    slot,
                    Active {
                        handle,
                        token,
                        session,
                        start_time,
                    },
                );
                Ok(())
            });
        if let Err(e) = added {
            self.release(session);
            self.finish(Completion {
                token,
                result: Err(e),
            });
        }
    }

    fn collect_finished(&mut self) {
        let mut finished = Vec::new();
        let active = &self.active;
        self.multi.messages(|m| {
            if let Ok(slot) = m.token() {
                if let Some(a) = active.get(&slot) {
                    if let Some(result) = m.result_for2(&a.handle) {
                        finished.push((slot, result));
                    }
                }
            }
        });
        for (slot, result) in finished {
            let Some(a) = self.active.remove(&slot) else {
                continue;
            };
            let Ok(mut easy) = self.multi.remove2(a.handle) else {
                continue;
            };
            let result = match result {
                Ok(()) => extract(&mut easy, a.start_time),
                Err(e) => Err(TransferError::from(e)),
            };
            super::cookies::detach(easy.raw());
            easy.reset();
            *easy.get_mut() = Collect::default();
            self.pool.push(easy);
            self.release(a.session);
            self.finish(Completion {
                token: a.token,
                result,
            });
        }
        self.close_idle_jars();
    }

    fn release(&mut self, session: SessionId) {
        if let Some((_, users)) = self.jars.get_mut(&session) {
            *users = users.saturating_sub(1);
        }
    }

    fn close_idle_jars(&mut self) {
        let jars = &mut self.jars;
        self.closing.retain(|id| match jars.get(id) {
            Some((_, 0)) => {
                jars.remove(id);
                false
            }
            Some(_) => true,
            None => false,
        });
    }

    fn finish(&self, c: Completion) {
        let mut done = self.done.lock().expect("completion lock");
        let was_empty = done.is_empty();
        done.push(c);
        drop(done);
        if let (true, Some(efd)) = (was_empty, &self.efd) {
            signal(efd);
        }
    }

    pub(super) fn cookie_lines(&mut self, session: SessionId) -> Vec<String> {
        let Some((jar, _)) = self.jars.get(&session) else {
            return Vec::new();
        };
        let mut easy = self
            .pool
            .pop()
            .unwrap_or_else(|| Easy2::new(Collect::default()));
        jar.attach(easy.raw());
        let lines = easy
            .cookies()
            .map(|list| {
                list.iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        super::cookies::detach(easy.raw());
        easy.reset();
        self.pool.push(easy);
        lines
    }
}
