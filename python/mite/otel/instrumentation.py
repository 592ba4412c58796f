"""The decorators: `@mite_http_traced` (an `@mite_http` journey traced end to end: journey,
transaction and HTTP request spans), `@trace_journey(name)` and `trace_transaction(name)`."""

import functools
from contextlib import asynccontextmanager, nullcontext

from opentelemetry.trace import SpanKind

from ._scope import in_traced_journey, is_in_traced_journey
from .acurl_integration import patch_acurl_session
from .config import is_tracing_enabled
from .context_integration import traced_context
from .tracing import get_tracer, handle_span_error

__all__ = ["is_in_traced_journey", "mite_http_traced", "trace_journey", "trace_transaction"]

# mite 2.11's name for the flag.
_in_traced_journey = in_traced_journey


def _span(name):
    # Exceptions are recorded by handle_span_error, once per span.
    return get_tracer().start_as_current_span(
        name, kind=SpanKind.INTERNAL, record_exception=False, set_status_on_exception=False
    )


def _looks_like_context(obj):
    return hasattr(obj, "send") and hasattr(obj, "transaction")


def trace_journey(journey_name: str):
    """Decorator: each run of the journey is a `journey.<journey_name>` span, with its
    transactions (and `ctx.http` requests, when the journey already has `ctx.http`) as child
    spans. With tracing off the journey is returned unchanged."""

    def decorator(journey_func):
        if not is_tracing_enabled():
            return journey_func
        get_tracer()  # the SDK is set up (and its settings checked) when the journey is defined

        @functools.wraps(journey_func)
        async def async_wrapper(*args, **kwargs):
            with _span(f"journey.{journey_name}") as span:
                span.set_attribute("mite.journey.name", journey_name)
                scope = (
                    traced_context(args[0])
                    if args and _looks_like_context(args[0])
                    else nullcontext()
                )
                try:
                    with scope:
                        return await journey_func(*args, **kwargs)
                except Exception as exc:
                    handle_span_error(span, exc)
                    raise

        return async_wrapper

    return decorator


@asynccontextmanager
async def trace_transaction(transaction_name: str, **attributes):
    """A `transaction.<transaction_name>` span for the block, yielded (None when tracing is
    off); keyword arguments become `mite.transaction.<key>` attributes. It sends no mite
    message: `ctx.transaction` does that (and is traced too inside traced journeys)."""
    if not is_tracing_enabled():
        yield None
        return
    with _span(f"transaction.{transaction_name}") as span:
        span.set_attribute("mite.transaction.name", transaction_name)
        for key, value in attributes.items():
            span.set_attribute(f"mite.transaction.{key}", str(value))
        try:
            yield span
        except Exception as exc:
            handle_span_error(span, exc)
            raise


def mite_http_traced(func):
    """`@mite_http`, traced: each run is a `journey.<name>` span; inside it each
    `ctx.transaction(...)` is a `transaction.<name>` span and each `ctx.http` request an
    `HTTP <METHOD>` client span sending a W3C `traceparent` header. With tracing off
    (MITE_CONF_OTEL_ENABLED) it is plain `@mite_http`."""
    from mite_http import mite_http

    if not is_tracing_enabled():
        return mite_http(func)
    get_tracer()  # the SDK is set up (and its settings checked) when the journey is defined
    patch_acurl_session()
    journey_name = func.__name__

    async def in_session(ctx, *args, **kwargs):
        with traced_context(ctx):
            return await func(ctx, *args, **kwargs)

    http_journey = mite_http(in_session)

    @functools.wraps(func)
    async def tracing_wrapper(*args, **kwargs):
        token = in_traced_journey.set(True)
        try:
            with _span(f"journey.{journey_name}") as span:
                span.set_attribute("mite.journey.name", journey_name)
                span.set_attribute("mite.journey.type", "http")
                if args:
                    span.set_attribute("mite.context.type", type(args[0]).__name__)
                try:
                    return await http_journey(*args, **kwargs)
                except Exception as exc:
                    handle_span_error(span, exc)
                    raise
        finally:
            in_traced_journey.reset(token)

    return tracing_wrapper


def _ensure_patching_applied():
    """mite 2.11's lazy patching step: gives AcurlSessionWrapper traced request methods."""
    patch_acurl_session()
