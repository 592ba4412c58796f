"""W3C trace context for outgoing requests: `inject_headers(headers)` adds `traceparent` (and
`tracestate` when there is one) for the current span."""

from opentelemetry import context as otel_context
from opentelemetry.propagate import inject

from .config import is_tracing_enabled

__all__ = ["inject_headers", "trace_headers"]


def _is_enabled():
    return is_tracing_enabled()


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Adds the current trace context to `headers` (in place) and returns it; unchanged when
    tracing is off."""
    if not _is_enabled():
        return headers
    inject(headers, context=otel_context.get_current())
    return headers


def trace_headers(headers):
    """A new dict: the caller's `headers` (a mapping, pairs, or None) plus the current span's
    trace context, which replaces any header of the same name (in any case) the caller gave.
    The caller's object is left alone (mite 2.11 wrote into it)."""
    injected = {}
    inject(injected)
    out = dict(headers) if headers else {}
    if injected:
        names = {k.lower() for k in injected}
        for name in [k for k in out if isinstance(k, str) and k.lower() in names]:
            del out[name]
        out.update(injected)
    return out
