//! epoll for the engine thread: libcurl tells us which sockets to watch (its socket callback),
//! and we hand back only the ready ones (`curl_multi_socket_action`), so a wake-up costs O(ready)
//! rather than O(transfers) as `curl_multi_perform` does.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Epoll(OwnedFd);

/// What a ready descriptor can do.
#[derive(Clone, Copy, Debug)]
pub struct Ready {
    pub fd: RawFd,
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: returns a new descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and owned by nobody else.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The epoll descriptor itself (for callbacks that only need to issue `epoll_ctl`).
    pub fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Watches `fd` for the given interest, adding or changing its registration.
    pub fn watch(epfd: RawFd, fd: RawFd, readable: bool, writable: bool) {
        let mut ev = libc::epoll_event {
            events: (if readable { libc::EPOLLIN } else { 0 }
                | if writable { libc::EPOLLOUT } else { 0 }) as u32,
            u64: fd as u64,
        };
        // SAFETY: ev is a live struct; a failed MOD (not yet registered) falls back to ADD.
        unsafe {
            if libc::epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, &mut ev) < 0 {
                libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev);
            }
        }
    }

    /// Stops watching `fd` (libcurl is done with it, or about to close it).
    pub fn forget(epfd: RawFd, fd: RawFd) {
        // SAFETY: DEL ignores the event argument on Linux >= 2.6.9.
        unsafe {
            libc::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut());
        }
    }

    /// Waits up to `timeout_ms` (-1: forever) and fills `out` with what is ready.
    pub fn wait(&self, out: &mut Vec<Ready>, timeout_ms: i32) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        // SAFETY: the buffer holds 64 events and we pass that length.
        let n =
            unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), 64, timeout_ms) };
        out.clear();
        for ev in events.iter().take(n.max(0) as usize) {
            let bits = ev.events as i32;
            out.push(Ready {
                fd: ev.u64 as RawFd,
                readable: bits & (libc::EPOLLIN | libc::EPOLLHUP) != 0,
                writable: bits & libc::EPOLLOUT != 0,
                error: bits & libc::EPOLLERR != 0,
            });
        }
    }
}

/// A non-blocking eventfd: how one thread wakes another's epoll or asyncio loop.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable (both eventfds, engine wake-up and completions, are woken so).
pub fn signal(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to our eventfd.
    unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}
