"""HTTP client spans: in a traced journey `ctx.http` is a `TracedSession`, whose request methods
each run inside an `HTTP <METHOD>` span and send that span's W3C `traceparent` header.

mite 2.11 patched the verbs onto `AcurlSessionWrapper`'s class, which has none (they are
reached through `__getattr__`), so the patch failed silently and no HTTP span or header was
ever made; here the journey's session is wrapped instead, and `patch_acurl_session()` gives the
wrapper class real traced verbs for code that builds one itself."""

from urllib.parse import urlsplit

from opentelemetry.trace import SpanKind, Status, StatusCode

from ._scope import is_in_traced_journey
from .context import trace_headers
from .tracing import get_tracer, handle_span_error

__all__ = ["HTTP_METHODS", "TracedSession", "patch_acurl_session", "traced_request"]

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")

_TIMINGS = (
    ("total_time", "http.response.time.total"),
    ("starttransfer_time", "http.response.time.first_byte"),
    ("namelookup_time", "http.response.time.dns"),
    ("connect_time", "http.response.time.connect"),
)


def _set_request_attributes(span, method, url):
    span.set_attribute("http.method", method)
    span.set_attribute("http.url", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return  # the engine reports the bad URL itself
    if parts.hostname:
        span.set_attribute("http.host", parts.hostname)
    if parts.scheme:
        span.set_attribute("http.scheme", parts.scheme)
    if parts.path:
        span.set_attribute("http.target", parts.path)


def _set_response_attributes(span, response):
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        span.set_attribute("http.response.status_code", status)
        # A client span fails on 4xx and 5xx (OpenTelemetry's HTTP conventions).
        if status >= 400:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    for name, attribute in _TIMINGS:
        value = getattr(response, name, None)
        if isinstance(value, (int, float)):
            span.set_attribute(attribute, value)
    size = getattr(response, "download_size", None)
    if isinstance(size, (int, float)):
        span.set_attribute("http.response.body.size", size)
    headers = getattr(response, "headers", None)
    length = headers.get("content-length") if headers is not None else None
    if length:
        span.set_attribute("http.response.header.content-length", length)


async def traced_request(request, method, url, kwargs):
    """Awaits `request(url, **kwargs)` inside an `HTTP <METHOD>` client span, the request
    carrying the span's trace context in its headers."""
    upper = method.upper()
    with get_tracer().start_as_current_span(
        f"HTTP {upper}",
        kind=SpanKind.CLIENT,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        _set_request_attributes(span, upper, url)
        kwargs["headers"] = trace_headers(kwargs.get("headers"))
        try:
            response = await request(url, **kwargs)
        except Exception as exc:
            handle_span_error(span, exc)
            raise
        _set_response_attributes(span, response)
        return response


def _verb(method):
    async def call(self, url, **kwargs):
        return await traced_request(getattr(self._session, method), method, url, kwargs)

    call.__name__ = call.__qualname__ = method
    call.__doc__ = f"`session.{method}(url, ...)` inside an `HTTP {method.upper()}` span."
    return call


class TracedSession:
    """A journey's HTTP session whose request methods make client spans; everything else
    (cookies, `additional_metrics`, callbacks) is the session's own."""

    __slots__ = ("_session",)

    def __init__(self, session):
        object.__setattr__(self, "_session", session)

    def __getattr__(self, name):
        return getattr(self._session, name)

    def __setattr__(self, name, value):
        setattr(self._session, name, value)

    def __delattr__(self, name):
        delattr(self._session, name)

    def __repr__(self):
        return f"<TracedSession of {self._session!r}>"


for _method in HTTP_METHODS:
    setattr(TracedSession, _method, _verb(_method))


def _wrapper_verb(method):
    async def call(self, url, **kwargs):
        # The wrapper keeps its session in a private (name-mangled) attribute.
        session = self._AcurlSessionWrapper__session
        request = getattr(session, method)
        if not is_in_traced_journey():
            return await request(url, **kwargs)
        return await traced_request(request, method, url, kwargs)

    call.__name__ = call.__qualname__ = method
    return call


def patch_acurl_session():
    """Gives `mite_http.AcurlSessionWrapper` request methods that make client spans inside
    traced journeys (idempotent)."""
    from mite_http import AcurlSessionWrapper

    if getattr(AcurlSessionWrapper, "_mite_otel_traced", False):
        return
    for method in HTTP_METHODS:
        setattr(AcurlSessionWrapper, method, _wrapper_verb(method))
    AcurlSessionWrapper._mite_otel_traced = True
