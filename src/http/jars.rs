//! Sessions' cookie jars on the engine thread: one libcurl share handle per session, counted
//! while its transfers run, and recycled when the session ends.
//!
//! NOTE: a share handle costs an easy handle of its own and a TLS session cache in libcurl 8;
//! making and freeing one per journey was 7% of the engine thread's time on the perf journey
//! (`perf record`, `curl_share_init`/`curl_share_cleanup`). A jar whose session only spoke plain
//! HTTP holds nothing but cookies, so it is emptied ("ALL") and handed to the next session; a jar
//! that saw TLS may hold TLS sessions, which must not reach another session, so it is freed.
use std::collections::HashMap;

use curl::easy::Easy2;

use super::command::SessionId;
use super::cookies::{detach, Jar};
use super::transfer::Collect;

struct InUse {
    jar: Jar,
    /// Transfers running with it.
    users: usize,
    /// It carried a request that was not plain `http://`.
    tls: bool,
    /// The session ended; recycle once `users` is 0.
    closing: bool,
    /// Cookies may have reached it (given with a request, or a Set-Cookie seen): emptied
    /// before reuse only then.
    cookies: bool,
}

pub struct Jars {
    by_session: HashMap<SessionId, InUse>,
    free: Vec<Jar>,
    /// Used only to read, empty or recycle jars, never for transfers.
    janitor: Easy2<Collect>,
}

fn plain_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

impl Jars {
    pub fn new() -> Self {
        Jars {
            by_session: HashMap::new(),
            free: Vec::new(),
            janitor: Easy2::new(Collect::default()),
        }
    }

    /// Counts one more transfer of the session, to `url`, which gives `cookies` lines.
    pub fn acquire(&mut self, session: SessionId, url: &str, cookies: bool) {
        let free = &mut self.free;
        let entry = self.by_session.entry(session).or_insert_with(|| InUse {
            jar: free.pop().unwrap_or_else(Jar::new),
            users: 0,
            tls: false,
            closing: false,
            cookies: false,
        });
        entry.users += 1;
        entry.tls |= !plain_http(url);
        entry.cookies |= cookies;
    }

    /// A response of the session set a cookie.
    pub fn note_cookies(&mut self, session: SessionId) {
        if let Some(e) = self.by_session.get_mut(&session) {
            e.cookies = true;
        }
    }

    /// Attaches the session's jar (acquired before) to an easy handle.
    pub fn attach(&self, session: SessionId, easy: *mut curl_sys::CURL) {
        if let Some(e) = self.by_session.get(&session) {
            e.jar.attach(easy);
        }
    }

    /// One transfer of the session is over.
    pub fn release(&mut self, session: SessionId) {
        let done = match self.by_session.get_mut(&session) {
            Some(e) => {
                e.users = e.users.saturating_sub(1);
                e.closing && e.users == 0
            }
            None => false,
        };
        if done {
            self.recycle(session);
        }
    }

    /// The session ended: its jar goes back once its transfers are done.
    pub fn close(&mut self, session: SessionId) {
        let idle = match self.by_session.get_mut(&session) {
            Some(e) => {
                e.closing = true;
                e.users == 0
            }
            None => false,
        };
        if idle {
            self.recycle(session);
        }
    }

    fn recycle(&mut self, session: SessionId) {
        let Some(e) = self.by_session.remove(&session) else {
            return;
        };
        if e.tls {
            return; // dropped: its TLS sessions stay with it
        }
        if e.cookies {
            e.jar.attach(self.janitor.raw());
            let _ = self.janitor.cookie_list("ALL");
            detach(self.janitor.raw());
        }
        self.free.push(e.jar);
    }

    /// The jar's cookies as Netscape cookie-file lines.
    pub fn lines(&mut self, session: SessionId) -> Vec<String> {
        let Some(e) = self.by_session.get(&session) else {
            return Vec::new();
        };
        e.jar.attach(self.janitor.raw());
        let lines = self
            .janitor
            .cookies()
            .map(|list| {
                list.iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        detach(self.janitor.raw());
        lines
    }

    /// Empties the session's jar.
    pub fn erase(&mut self, session: SessionId) {
        if let Some(e) = self.by_session.get(&session) {
            e.jar.attach(self.janitor.raw());
            let _ = self.janitor.cookie_list("ALL");
            detach(self.janitor.raw());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain_http;

    #[test]
    fn only_plain_http_urls_keep_a_jar_reusable() {
        assert!(plain_http("http://a/"));
        assert!(plain_http("HTTP://a/"));
        assert!(!plain_http("https://a/"));
        assert!(!plain_http("ftp://a/"));
        assert!(!plain_http("http:/"));
    }
}
