//! Which of libcurl's sockets epoll watches, and for what. libcurl's socket callback says what
//! it wants; this keeps the registrations in step with the fewest `epoll_ctl` calls.
//!
//! NOTE: a kept-alive connection is handed to libcurl's socket callback again for every request
//! (watch, then "remove" when the transfer ends). Deleting and re-adding the registration each
//! time cost three `epoll_ctl` calls per request (DEL, a failing MOD, ADD), measured with
//! `strace -c` on the perf journey: 57,394 calls for 19,089 requests. Now "remove" only notes that
//! libcurl stopped listening; the registration stays until the next request changes it (one MOD)
//! or the socket turns out to be idle-but-readable (the server closed it), when it is deleted.
use std::os::fd::RawFd;

use super::poller::Epoll;

/// One descriptor's registration.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// In the epoll set, with `events`.
    registered: bool,
    events: u8,
    /// libcurl currently asks for events on it.
    wanted: bool,
}

const IN: u8 = 1;
const OUT: u8 = 2;

pub struct Sockets {
    epfd: RawFd,
    slots: Vec<Slot>,
}

impl Sockets {
    pub fn new(epfd: RawFd) -> Self {
        Sockets {
            epfd,
            slots: Vec::new(),
        }
    }

    fn slot(&mut self, fd: RawFd) -> &mut Slot {
        let i = fd.max(0) as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Slot::default());
        }
        &mut self.slots[i]
    }

    /// libcurl wants `readable`/`writable` on `fd`. `known` is false the first time libcurl
    /// reports this socket (its token is unset): the descriptor may then be a new socket that
    /// reuses the number of one closed meanwhile, so the registration is renewed either way.
    pub fn want(&mut self, fd: RawFd, readable: bool, writable: bool, known: bool) {
        let events = if readable { IN } else { 0 } | if writable { OUT } else { 0 };
        let epfd = self.epfd;
        let s = self.slot(fd);
        s.wanted = true;
        if known && s.registered && s.events == events {
            return;
        }
        Epoll::watch(epfd, fd, readable, writable);
        s.registered = true;
        s.events = events;
    }

    /// libcurl stopped listening on `fd` (the transfer ended; the connection may be kept).
    pub fn unwant(&mut self, fd: RawFd) {
        self.slot(fd).wanted = false;
    }

    /// Whether an event on `fd` is for libcurl. A socket libcurl no longer listens on is taken
    /// out of the set here (level-triggered epoll would report it again and again).
    pub fn claim(&mut self, fd: RawFd) -> bool {
        let epfd = self.epfd;
        let s = self.slot(fd);
        if s.wanted {
            return true;
        }
        if s.registered {
            Epoll::forget(epfd, fd);
            s.registered = false;
        }
        false
    }
}
