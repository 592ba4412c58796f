"""HTTP for journeys: `@mite_http` gives `ctx.http`, a session on mite's native libcurl engine,
and every response (each redirect hop too) sends an `http_metrics` message."""

import asyncio
import collections.abc
import functools
import inspect
import logging
import os
from contextlib import asynccontextmanager

import acurl
from mite._native import HttpJourney, JourneyCoroutine, JourneySessions

logger = logging.getLogger(__name__)

__all__ = ["mite_http", "create_http_cookie", "SessionPool", "AcurlSessionWrapper"]


def _verify_tls():
    """MITE_HTTP_VERIFY_TLS=1 checks servers' TLS certificates (off by default, as in mite 2.11)."""
    return os.environ.get("MITE_HTTP_VERIFY_TLS", "").strip().lower() in ("1", "true", "yes", "on")


class AcurlSessionWrapper:
    """mite 2.11's journey-session wrapper, kept for code that builds one itself: acurl's session
    plus `set_response_callback(cb)`, where `cb(response, additional_metrics)` may add fields to
    the next `http_metrics` messages. `@mite_http` journeys get a native session that does the
    same without the wrapper."""

    def __init__(self, session):
        self.__session = session
        self.__callback = None
        self.additional_metrics = {}

    def __getattr__(self, name):
        return getattr(self.__session, name)

    def set_response_callback(self, cb):
        self.__callback = cb

    def _release(self):
        """Ends the session. Also breaks session -> callback -> wrapper -> session, so that
        refcounting frees a journey's objects at once instead of the cyclic collector later."""
        self.__callback = None
        self.__session.set_response_callback(None)
        self.__session.close()

    @property
    def _response_callback(self):
        return self.__callback


def _new_engine(loop):
    """The engine for journeys on `loop` (made when a loop first runs a journey), and whether
    its sessions check TLS certificates."""
    wrapper, verify = acurl.CurlWrapper(loop), _verify_tls()
    # mite 2.11 kept one SessionPool per loop in `SessionPool._session_pools`; code (and its
    # tests) look there to see which loops have run journeys.
    pool = SessionPool()
    pool._wrapper = wrapper
    SessionPool._session_pools[loop] = pool
    return wrapper, verify


# One engine per event loop; each journey gets a fresh native session (empty cookie jar) from it.
_journeys = JourneySessions(_new_engine)
_open = _journeys.open
_close = _journeys.close
# Its methods are those of a coroutine: asyncio (create_task, gather) and the runner take it as one.
collections.abc.Coroutine.register(JourneyCoroutine)


class SessionPool:
    """mite 2.11's entry points, kept: `SessionPool.decorator(func)` is `mite_http(func)`, and
    `session_context(ctx)` gives `ctx.http` for the block. One engine per event loop; a fresh
    session (cookie jar) per journey."""

    _session_pools = {}

    def __init__(self):
        self._wrapper = None
        self._verify = _verify_tls()

    @asynccontextmanager
    async def session_context(self, context):
        session = _open(context)
        try:
            yield
        finally:
            _close(context, session)

    @classmethod
    def decorator(cls, func):
        return mite_http(func)

    def _checkout(self, context):
        return _open(context)

    def _checkin(self, context):
        # Deleted even when the journey raised (mite 2.11 left it on the context).
        _close(context, context.http)


def mite_http(func):
    """Gives the journey `ctx.http` for its duration: a session whose every response (each
    redirect hop too) sends `http_metrics` through `ctx`. The decorated journey is native
    (`HttpJourney`): calling it returns a coroutine that opens the session when the journey
    starts and closes it (and deletes `ctx.http`) however the journey ends."""
    journey = HttpJourney(func, _journeys)
    functools.update_wrapper(journey, func)
    _mark_coroutine_function(journey)
    return journey


def _mark_coroutine_function(journey):
    # `asyncio.iscoroutinefunction` (and on Python 3.12+ `inspect.iscoroutinefunction`) say True,
    # as they did for mite 2.11's `async def` wrapper.
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    if marker is not None:
        journey._is_coroutine = marker
    mark = getattr(inspect, "markcoroutinefunction", None)
    if mark is not None:
        mark(journey)


def create_http_cookie(ctx, *args, **kwargs):
    return acurl.Cookie(*args, **kwargs)
