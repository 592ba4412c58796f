//! The engine thread: `Engine` is the loop thread's handle to it (requests over a channel,
//! finished transfers back in batches behind an eventfd), and `run` is the thread's loop around
//! the worker (`worker.rs`), driven by epoll and `curl_multi_socket_action`.
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use curl::multi::Multi;

use super::command::{Command, Completion, SessionId};
use super::poller::{eventfd, signal, Epoll, Ready};
use super::request::RequestSpec;
use super::worker::Worker;

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
                run(
                    Worker::new(Multi::new(), done2, efd2),
                    rx,
                    &sleeping2,
                    &epoll,
                    &wake2,
                );
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

    /// Queues a request; its completion carries `token`. It starts once the engine thread is
    /// awake: call `wake` after it.
    pub fn submit(&self, token: u64, session: SessionId, spec: RequestSpec, start_time: i64) {
        let _ = self.commands.send(Command::Submit {
            token,
            session,
            spec: Box::new(spec),
            start_time,
        });
    }

    /// Wakes the engine thread if it sleeps (it re-checks the queue before sleeping, so a
    /// request queued before this call is never missed).
    pub fn wake(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst) {
            signal(&self.wake);
        }
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

/// The engine thread's loop: commands, then ready sockets, then sleep when there is nothing.
fn run(
    mut worker: Worker,
    rx: Receiver<Command>,
    sleeping: &AtomicBool,
    epoll: &Epoll,
    wake: &OwnedFd,
) {
    let epfd = epoll.raw();
    Epoll::watch(epfd, wake.as_raw_fd(), true, false);
    let deadline = worker.install(epfd);
    let mut ready: Vec<Ready> = Vec::with_capacity(64);
    loop {
        while let Ok(cmd) = rx.try_recv() {
            if !worker.command(cmd) {
                return;
            }
        }
        // Requests that could not even start are answered before any wait.
        worker.hand_over();
        // NOTE: look before sleeping. `sleeping` tells the loop thread to write the wake-up
        // eventfd; raising it only when nothing is ready spares that write (and this thread's
        // read) for requests submitted while sockets still have work.
        epoll.wait(&mut ready, 0);
        if ready.is_empty() {
            let due = *deadline.lock().expect("timer lock");
            let timeout_ms = match due {
                None => 1000,
                Some(at) => at
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(1000) as i32,
            };
            sleeping.store(true, Ordering::SeqCst);
            if rx.is_empty() {
                epoll.wait(&mut ready, timeout_ms);
            }
            sleeping.store(false, Ordering::SeqCst);
        }
        worker.drive(&ready, &deadline, wake.as_raw_fd());
    }
}
