"""The OpenTelemetry SDK set up from the MITE_CONF_OTEL_* settings: `init_tracing()`, and
`get_tracer()` / `get_meter()` for mite's spans and instruments."""

from ._errors import TracingDisabledError, missing_extra
from .config import get_otel_config, is_tracing_enabled

try:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
    from opentelemetry.trace import Status, StatusCode
except ImportError as e:
    error = missing_extra(e)
    if error is None:
        raise
    raise error from None

from ._exporters import span_processor

__all__ = ["OTEL_AVAILABLE", "get_meter", "get_tracer", "handle_span_error", "init_tracing"]

# mite 2.11's flag; importing mite.otel without the libraries already failed with one line.
OTEL_AVAILABLE = True

_DISABLED = "OpenTelemetry is disabled: set MITE_CONF_OTEL_ENABLED=true to enable tracing"


class _TracingState:
    """What init_tracing() made: the providers and mite's tracer and meter from them."""

    def __init__(self):
        self.tracer = None
        self.meter = None
        self.tracer_provider = None
        self.meter_provider = None


_state = _TracingState()


def handle_span_error(span, exc):
    """Records `exc` on `span` (once) and marks the span as failed."""
    if not span:
        return
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def _is_sdk_provider_configured():
    """Whether the global TracerProvider is an SDK one (ours, or one the user set up)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def _foreign_provider():
    """The user's own SDK TracerProvider, when one was set before mite's: mite then uses it
    rather than a second provider the OpenTelemetry API would refuse to install."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider) and provider is not _state.tracer_provider:
        return provider
    return None


def init_tracing():
    """Sets up the SDK from the settings when MITE_CONF_OTEL_ENABLED is on (else does
    nothing): a TracerProvider with the service name, the sampler and the configured span
    processor, installed as the global provider, and a MeterProvider likewise."""
    cfg = get_otel_config()
    if not cfg["enabled"]:
        return
    foreign = _foreign_provider()
    if foreign is not None:
        _state.tracer = foreign.get_tracer(__name__)
        _state.meter = metrics.get_meter(__name__)
        return
    resource = Resource.create({"service.name": cfg["service_name"]})
    provider = TracerProvider(resource=resource, sampler=TraceIdRatioBased(cfg["sampler_ratio"]))
    provider.add_span_processor(span_processor(cfg))
    trace.set_tracer_provider(provider)
    _state.tracer_provider = provider
    # Taken from our provider, not the global one: a repeated init_tracing() (which the API
    # cannot install globally a second time) still sends mite's spans where it says.
    _state.tracer = provider.get_tracer(__name__)
    meter_provider = MeterProvider(resource=resource)
    metrics.set_meter_provider(meter_provider)
    _state.meter_provider = meter_provider
    _state.meter = meter_provider.get_meter(__name__)


def get_tracer():
    """mite's tracer, setting the SDK up on first use; TracingDisabledError when tracing is off."""
    if _state.tracer is not None:
        return _state.tracer
    if not is_tracing_enabled():
        raise TracingDisabledError(_DISABLED)
    init_tracing()
    return _state.tracer


def get_meter():
    """mite's meter, setting the SDK up on first use; TracingDisabledError when tracing is off."""
    if _state.meter is not None:
        return _state.meter
    if not is_tracing_enabled():
        raise TracingDisabledError(_DISABLED)
    init_tracing()
    return _state.meter


def shutdown():
    """Exports what is still queued and stops the exporters (also done at interpreter exit)."""
    if _state.tracer_provider is not None:
        _state.tracer_provider.shutdown()
    if _state.meter_provider is not None:
        _state.meter_provider.shutdown()
