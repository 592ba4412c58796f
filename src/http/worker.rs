//! What the engine thread drives: libcurl's multi handle, the easy-handle pool, the cookie jars
//! and the epoll registrations of libcurl's sockets.
use std::os::fd::{OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use curl::easy::Easy2;
use curl::multi::{Easy2Handle, Events, Multi};

use super::command::{Command, Completion, SessionId};
use super::cookies::detach;
use super::jars::Jars;
use super::poller::{signal, Ready};
use super::request::RequestSpec;
use super::sockets::Sockets;
use super::transfer::{configure, configure_base, extract, Collect, TransferError};

/// A pooled easy handle. `plain`: it carries the base options only (see `configure_base`), so a
/// plain request needs just its URL; any other request resets and configures it fully, and it
/// stays marked until the next plain request resets it back.
struct Pooled {
    easy: Easy2<Collect>,
    plain: bool,
}

struct Active {
    handle: Easy2Handle<Collect>,
    plain: bool,
    token: u64,
    session: SessionId,
    start_time: i64,
}

pub(super) struct Worker {
    multi: Multi,
    done: Arc<Mutex<Vec<Completion>>>,
    /// Woken when completions arrive.
    efd: Arc<OwnedFd>,
    /// Transfers in flight, by slot (the easy handle's private token is its index + 1).
    active: Vec<Option<Active>>,
    free_slots: Vec<usize>,
    pool: Vec<Pooled>,
    jars: Jars,
    sockets: Option<Arc<Mutex<Sockets>>>,
    /// Finished since the last hand-over (handed over together: one lock, at most one wake).
    finished: Vec<Completion>,
}

impl Worker {
    pub(super) fn new(multi: Multi, done: Arc<Mutex<Vec<Completion>>>, efd: Arc<OwnedFd>) -> Self {
        let mut multi = multi;
        // NOTE: as acurl: keep up to 1000 idle connections for reuse; multiplex HTTP/2.
        let _ = multi.set_max_connects(1000);
        let _ = multi.pipelining(false, true);
        Worker {
            multi,
            done,
            efd,
            active: Vec::new(),
            free_slots: Vec::new(),
            pool: Vec::new(),
            jars: Jars::new(),
            sockets: None,
            finished: Vec::new(),
        }
    }

    /// Lets libcurl tell epoll which sockets to watch, and tell us when to call `timeout()`.
    pub(super) fn install(&mut self, epfd: RawFd) -> Arc<Mutex<Option<Instant>>> {
        let sockets = Arc::new(Mutex::new(Sockets::new(epfd)));
        self.sockets = Some(sockets.clone());
        let multi = self.multi.raw() as usize;
        let _ = self.multi.socket_function(move |socket, events, token| {
            let mut s = sockets.lock().expect("sockets lock");
            if events.remove() {
                s.unwant(socket);
                return;
            }
            // libcurl passes back the token assigned to a socket while it keeps the socket's
            // entry; 0 means it is reporting this socket afresh.
            let known = token != 0;
            if !known {
                // SAFETY: called from libcurl's socket callback on the thread driving `multi`,
                // for a socket libcurl has just reported, which is what curl_multi_assign needs.
                // The token is any non-zero value; libcurl never dereferences it.
                unsafe {
                    curl_sys::curl_multi_assign(
                        multi as *mut curl_sys::CURLM,
                        socket,
                        std::ptr::dangling_mut::<u8>().cast(),
                    );
                }
            }
            s.want(
                socket,
                events.input() || events.input_and_output(),
                events.output() || events.input_and_output(),
                known,
            );
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

    /// Hands ready sockets to libcurl, fires a due timer, and queues what finished.
    pub(super) fn drive(
        &mut self,
        ready: &[Ready],
        deadline: &Mutex<Option<Instant>>,
        wake: RawFd,
    ) {
        for r in ready {
            if r.fd == wake {
                let mut counter = [0u8; 8];
                // SAFETY: reads at most 8 bytes into a live buffer (resets the eventfd).
                unsafe { libc::read(r.fd, counter.as_mut_ptr().cast(), 8) };
                continue;
            }
            let ours = self
                .sockets
                .as_ref()
                .is_some_and(|s| s.lock().expect("sockets lock").claim(r.fd));
            if !ours {
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
        self.hand_over();
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
            Command::CloseSession(id) => self.jars.close(id),
            Command::Cookies { session, reply } => {
                let _ = reply.send(self.jars.lines(session));
            }
            Command::EraseCookies(session) => self.jars.erase(session),
            Command::Shutdown => return false,
        }
        true
    }

    /// A pooled (or new) handle set up for `spec`, the session's jar attached before any
    /// option that adds cookies to it.
    fn handle_for(
        &mut self,
        session: SessionId,
        spec: &RequestSpec,
    ) -> Result<(Easy2<Collect>, bool), curl::Error> {
        let plain = spec.is_plain();
        let (mut easy, was_plain) = match self.pool.pop() {
            Some(p) => (p.easy, p.plain),
            None => (Easy2::new(Collect::fresh()), false),
        };
        if !(plain && was_plain) {
            easy.reset();
        }
        self.jars.attach(session, easy.raw());
        let configured = if plain {
            if was_plain {
                Ok(())
            } else {
                configure_base(&mut easy)
            }
            .and_then(|()| easy.url(&spec.url))
        } else {
            configure(&mut easy, spec)
        };
        if let Err(e) = configured {
            detach(easy.raw());
            return Err(e);
        }
        Ok((easy, plain))
    }

    pub(super) fn start(
        &mut self,
        token: u64,
        session: SessionId,
        spec: &RequestSpec,
        start_time: i64,
    ) {
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.active.push(None);
            self.active.len() - 1
        });
        self.jars
            .acquire(session, &spec.url, !spec.cookies.is_empty());
        let added = self
            .handle_for(session, spec)
            .map_err(TransferError::from)
            .and_then(|(easy, plain)| {
                let mut handle = self.multi.add2(easy).map_err(|e| TransferError {
                    code: e.code() as u32,
                    message: e.description().to_string(),
                })?;
                handle.set_token(slot + 1).map_err(TransferError::from)?;
                self.active[slot] = Some(Active {
                    handle,
                    plain,
                    token,
                    session,
                    start_time,
                });
                Ok(())
            });
        if let Err(e) = added {
            self.free_slots.push(slot);
            self.jars.release(session);
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
            if let Ok(token) = m.token() {
                if let Some(Some(a)) = token.checked_sub(1).and_then(|i| active.get(i)) {
                    if let Some(result) = m.result_for2(&a.handle) {
                        finished.push((token - 1, result));
                    }
                }
            }
        });
        for (slot, result) in finished {
            let Some(a) = self.active[slot].take() else {
                continue;
            };
            self.free_slots.push(slot);
            let Ok(mut easy) = self.multi.remove2(a.handle) else {
                continue;
            };
            if easy.get_ref().saw_set_cookie() {
                self.jars.note_cookies(a.session);
            }
            // `extract` takes the collected bytes and leaves a fresh collector behind.
            let result = match result {
                Ok(()) => extract(&mut easy, a.start_time),
                Err(e) => {
                    *easy.get_mut() = Collect::fresh();
                    Err(TransferError::from(e))
                }
            };
            detach(easy.raw());
            self.pool.push(Pooled {
                easy,
                plain: a.plain,
            });
            self.jars.release(a.session);
            self.finish(Completion {
                token: a.token,
                result,
            });
        }
    }

    fn finish(&mut self, c: Completion) {
        self.finished.push(c);
    }

    /// Queues what finished for the loop thread, waking it only if the queue was empty.
    /// NOTE: one hand-over per pass instead of one per transfer: the loop thread drains the
    /// queue while this thread fills it, so per-transfer hand-overs found it empty (and wrote
    /// the eventfd) about once in three transfers (`strace -c`: 5,860 writes, 16,763 requests).
    pub(super) fn hand_over(&mut self) {
        if self.finished.is_empty() {
            return;
        }
        let mut done = self.done.lock().expect("completion lock");
        let was_empty = done.is_empty();
        if was_empty {
            std::mem::swap(&mut *done, &mut self.finished);
        } else {
            done.append(&mut self.finished);
        }
        drop(done);
        if was_empty {
            signal(&self.efd);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Transfers still in flight leave the multi handle first: removing one can call the
        // socket callback, which the `multi` field owns and frees when it is dropped (fields drop
        // in declaration order, `multi` first). Abandoned transfers exist when a loop closes with
        // requests in flight.
        for a in self.active.drain(..).flatten() {
            let _ = self.multi.remove2(a.handle);
        }
    }
}
