"""Sessions: one cookie jar each, on one native engine per loop. `Session` and the awaitable its
request methods return are native (`mite._native`): checking the arguments, submitting, the
response callbacks and redirects all happen in one object per request."""

import collections.abc

from mite._native import CurlEngine, RequestCoroutine, Session

# Its methods are those of a coroutine (send, throw, close, __await__); registered so that
# `asyncio.iscoroutine(session.get(url))` holds as it did for acurl's coroutines.
collections.abc.Coroutine.register(RequestCoroutine)


class CurlWrapper:
    """acurl's entry point: `CurlWrapper(loop).session()`. One engine per wrapper: libcurl on its
    own thread, handing finished transfers back to this loop."""

    def __init__(self, loop):
        self.loop = loop
        self._engine = CurlEngine(loop)
        loop.add_reader(self._engine.fd, self._engine.drain)

    def session(self, timeout=None, http_version=None, verify=False):
        """A new session (its own cookie jar). `timeout` (seconds) and `http_version`
        (`"1.1"`, `"2"`) apply to each request unless the request gives its own; `verify`
        turns TLS certificate checks on (off by default, as in acurl)."""
        return Session(self, timeout=timeout, http_version=http_version, verify=verify)

    def close(self):
        """Stops the engine thread."""
        if not self.loop.is_closed():
            self.loop.remove_reader(self._engine.fd)
        self._engine.close()


__all__ = ["CurlWrapper", "Session"]
