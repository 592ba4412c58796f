"""HTTP for journeys: `@mite_http` gives `ctx.http`, a session on mite's native libcurl engine,
and every response (each redirect hop too) sends an `http_metrics` message."""

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from functools import wraps

import acurl
from mite.context import Context

logger = logging.getLogger(__name__)

__all__ = ["mite_http", "create_http_cookie", "SessionPool", "AcurlSessionWrapper"]


def _verify_tls():
    """MITE_HTTP_VERIFY_TLS=1 checks servers' TLS certificates (off by default, as in mite 2.11)."""
    return os.environ.get("MITE_HTTP_VERIFY_TLS", "").strip().lower() in ("1", "true", "yes", "on")


class AcurlSessionWrapper:
    """The session a journey sees: acurl's session plus `set_response_callback(cb)`, where
    `cb(response, additional_metrics)` may add fields to the next `http_metrics` messages."""

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


class SessionPool:
    """One engine per event loop; a fresh session (cookie jar) per journey."""

    _session_pools = {}

    def __init__(self):
        self._wrapper = None
        self._verify = _verify_tls()

    @asynccontextmanager
    async def session_context(self, context):
        context.http = self._checkout(context)
        try:
            yield
        finally:
            self._checkin(context)

    @classmethod
    def decorator(cls, func):
        @wraps(func)
        async def wrapper(ctx, *args, **kwargs):
            loop = asyncio.get_running_loop()
            instance = cls._session_pools.get(loop)
            if instance is None:
                instance = cls._session_pools[loop] = cls()
            # session_context inlined: this runs once per journey.
            ctx.http = instance._checkout(ctx)
            try:
                return await func(ctx, *args, **kwargs)
            finally:
                instance._checkin(ctx)

        return wrapper

    def _checkin(self, context):
        # Deleted even when the journey raised (mite 2.11 left it on the context).
        session = context.http
        del context.http
        session._release()

    def _checkout(self, context):
        if self._wrapper is None:
            self._wrapper = acurl.CurlWrapper(asyncio.get_running_loop())
        session = self._wrapper.session(verify=self._verify)
        wrapped = AcurlSessionWrapper(session)
        native = isinstance(context, Context)

        def on_response(r):
            if wrapped._response_callback is not None:
                wrapped._response_callback(r, wrapped.additional_metrics)
            if native:
                r._raw.send_metrics(context, r.request.method, wrapped.additional_metrics)
                return
            context.send(
                "http_metrics",
                start_time=r.start_time,
                effective_url=r.url,
                response_code=r.status_code,
                dns_time=r.namelookup_time,
                connect_time=r.connect_time,
                tls_time=r.appconnect_time,
                transfer_start_time=r.pretransfer_time,
                first_byte_time=r.starttransfer_time,
                total_time=r.total_time,
                primary_ip=r.primary_ip,
                method=r.request.method,
                download_size=r.download_size,
                **wrapped.additional_metrics,
            )

        session.set_response_callback(on_response)
        return wrapped


def mite_http(func):
    """Gives the journey `ctx.http` for its duration."""
    return SessionPool.decorator(func)


def create_http_cookie(ctx, *args, **kwargs):
    return acurl.Cookie(*args, **kwargs)
