"""mite.otel's one-line errors: an OpenTelemetry library is missing (`mite._extras`'
MissingExtraError, exit 1 as for every optional library), a MITE_CONF_OTEL_* setting is bad or
tracing is off (SpecErrors, exit 2). `mite` prints each as one line."""

from mite._extras import MissingExtraError
from mite.utils import SpecError

__all__ = [
    "EXTRA_HINT",
    "MissingExtraError",
    "OtelConfigError",
    "TracingDisabledError",
    "missing_extra",
]

EXTRA_HINT = 'pip install "mite[otel]"'


class OtelConfigError(SpecError):
    """A MITE_CONF_OTEL_* setting is missing or malformed; the message names it."""


class TracingDisabledError(RuntimeError, SpecError):
    """Tracing was asked for (`get_tracer()`, `get_meter()`) while MITE_CONF_OTEL_ENABLED is off
    (a RuntimeError, as in mite 2.11)."""


def missing_extra(error):
    """The one-line error for an ImportError of an OpenTelemetry package, or None when the
    ImportError came from elsewhere (a real bug, which keeps its traceback)."""
    name = error.name or ""
    if not name.startswith("opentelemetry"):
        return None
    return MissingExtraError(
        f"mite.otel needs the OpenTelemetry libraries ({name} is not installed): {EXTRA_HINT}",
        name=name,
    )
