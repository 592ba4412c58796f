"""OpenTelemetry tracing for mite journeys (the `otel` extra): `@mite_http_traced` journeys
export journey, transaction and HTTP request spans and send W3C `traceparent` headers; set up
from the MITE_CONF_OTEL_* settings when MITE_CONF_OTEL_ENABLED is on."""

from ._errors import MissingExtraError, OtelConfigError, TracingDisabledError
from .config import get_otel_config, is_tracing_enabled

try:
    from .tracing import OTEL_AVAILABLE, get_meter, get_tracer, init_tracing, shutdown
except MissingExtraError as missing:
    # As in mite 2.11, mite.otel imports without its libraries and traced journeys run
    # untraced; asking for tracing is then one line naming the extra.
    from . import _untraced

    _untraced._missing = missing
    from ._untraced import (
        OTEL_AVAILABLE,
        get_meter,
        get_tracer,
        init_tracing,
        inject_headers,
        is_in_traced_journey,
        mite_http_traced,
        shutdown,
        trace_journey,
        trace_transaction,
    )
else:
    from .context import inject_headers
    from .instrumentation import (
        is_in_traced_journey,
        mite_http_traced,
        trace_journey,
        trace_transaction,
    )

__all__ = [
    "OTEL_AVAILABLE",
    "MissingExtraError",
    "OtelConfigError",
    "TracingDisabledError",
    "get_meter",
    "get_otel_config",
    "get_tracer",
    "init_tracing",
    "inject_headers",
    "is_in_traced_journey",
    "is_tracing_enabled",
    "mite_http_traced",
    "shutdown",
    "trace_journey",
    "trace_transaction",
]

# As in mite 2.11: with MITE_CONF_OTEL_ENABLED on, importing mite.otel sets the SDK up (a bad
# MITE_CONF_OTEL_* setting is reported here, before any journey runs).
if is_tracing_enabled():
    init_tracing()
