"""mite.otel without the OpenTelemetry libraries: as in mite 2.11, the import works and traced
journeys run untraced; turning tracing on (MITE_CONF_OTEL_ENABLED) is then one line naming the
extra, raised where tracing is first asked for."""

from contextlib import asynccontextmanager

from .config import is_tracing_enabled

__all__ = [
    "OTEL_AVAILABLE",
    "get_meter",
    "get_tracer",
    "init_tracing",
    "inject_headers",
    "is_in_traced_journey",
    "mite_http_traced",
    "shutdown",
    "trace_journey",
    "trace_transaction",
]

OTEL_AVAILABLE = False
_missing = None  # the MissingExtraError of the failed import, set by mite.otel


def _unavailable():
    raise _missing


def _check():
    if is_tracing_enabled():
        _unavailable()


def init_tracing():
    _unavailable()


def get_tracer():
    _unavailable()


def get_meter():
    _unavailable()


def shutdown():
    pass


def inject_headers(headers):
    return headers


def is_in_traced_journey():
    return False


def trace_journey(journey_name):
    def decorator(journey_func):
        _check()
        return journey_func

    return decorator


@asynccontextmanager
async def trace_transaction(transaction_name, **attributes):
    _check()
    yield None


def mite_http_traced(func):
    from mite_http import mite_http

    _check()
    return mite_http(func)
