//! A session's cookie jar: a libcurl share handle holding cookies (and TLS sessions), used only
//! on the engine thread, so it needs no locks.
use curl_sys::{curl_share_cleanup, curl_share_init, curl_share_setopt, CURLSH};

pub struct Jar(*mut CURLSH);

// SAFETY: a Jar is created, used and dropped on the engine thread only; it is moved there once.
unsafe impl Send for Jar {}

impl Jar {
    pub fn new() -> Jar {
        // SAFETY: plain libcurl calls on a handle we own; the options take an int.
        unsafe {
            let sh = curl_share_init();
            curl_share_setopt(
                sh,
                curl_sys::CURLSHOPT_SHARE,
                curl_sys::CURL_LOCK_DATA_COOKIE,
            );
            curl_share_setopt(
                sh,
                curl_sys::CURLSHOPT_SHARE,
                curl_sys::CURL_LOCK_DATA_SSL_SESSION,
            );
            Jar(sh)
        }
    }

    /// Attaches the jar to an easy handle (call again after every reset).
    pub fn attach(&self, easy: *mut curl_sys::CURL) {
        // SAFETY: easy is a live handle; the share outlives every transfer that uses it
        // (sessions are closed only after their transfers finish, on the same thread).
        unsafe {
            curl_sys::curl_easy_setopt(easy, curl_sys::CURLOPT_SHARE, self.0);
        }
    }
}

/// Detaches whatever jar an easy handle uses. `curl_easy_reset` keeps the share attached, and a
/// share still attached to any handle refuses `curl_share_cleanup`, so it would leak.
pub fn detach(easy: *mut curl_sys::CURL) {
    // SAFETY: easy is a live handle; a NULL share detaches it.
    unsafe {
        curl_sys::curl_easy_setopt(
            easy,
            curl_sys::CURLOPT_SHARE,
            std::ptr::null_mut::<CURLSH>(),
        );
    }
}

impl Drop for Jar {
    fn drop(&mut self) {
        // SAFETY: no easy handle refers to the share any more (see attach).
        unsafe {
            curl_share_cleanup(self.0);
        }
    }
}
