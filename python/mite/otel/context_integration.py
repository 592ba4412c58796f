"""Transaction spans and the traced-journey scope: inside a traced journey, `ctx.transaction(name)`
runs mite's transaction inside a `transaction.<name>` span and `ctx.http` is a TracedSession.

mite 2.11 replaced `Context.transaction` on the class for every journey, checking a flag on
each call; mite's Context is native (its type cannot be changed), so a traced journey's own
context gets the traced method for the journey's duration, and untraced journeys are untouched."""

from contextlib import asynccontextmanager, contextmanager

from opentelemetry.trace import SpanKind

from mite.context import active_transaction

from ._scope import in_traced_journey
from .acurl_integration import TracedSession
from .tracing import get_tracer, handle_span_error

__all__ = ["traced_context", "traced_transaction"]

_MISSING = object()


def _attribute_value(value):
    return value if isinstance(value, (str, bool, int, float)) else str(value)


def _transaction_id():
    current = active_transaction.get(None)
    return current[1] if isinstance(current, tuple) and len(current) == 2 else None


def traced_transaction(original):
    """`ctx.transaction` for a traced journey: mite's transaction `original(name)` (its
    messages unchanged) inside a `transaction.<name>` span; keyword arguments become
    `mite.transaction.<key>` span attributes."""

    @asynccontextmanager
    async def transaction(name, **attributes):
        with get_tracer().start_as_current_span(
            f"transaction.{name}",
            kind=SpanKind.INTERNAL,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            span.set_attribute("mite.transaction.name", name)
            for key, value in attributes.items():
                span.set_attribute(f"mite.transaction.{key}", _attribute_value(value))
            try:
                async with original(name) as entered:
                    txn_id = _transaction_id()
                    if txn_id is not None:
                        span.set_attribute("mite.transaction.id", txn_id)
                    yield entered
            except Exception as exc:
                handle_span_error(span, exc)
                raise

    transaction._mite_otel_traced = True
    return transaction


def _swap(ctx, name, make):
    """Sets `ctx.<name>` to `make(current)` unless it is already traced; returns how to undo it
    (None when nothing was changed)."""
    try:
        current = getattr(ctx, name)
    except AttributeError:
        return None
    if isinstance(current, TracedSession) or getattr(current, "_mite_otel_traced", False):
        return None
    own = getattr(ctx, "__dict__", {}).get(name, _MISSING)
    replacement = make(current)
    try:
        setattr(ctx, name, replacement)
    except (AttributeError, TypeError):
        return None  # a context that takes no attributes keeps its untraced method
    return name, own, replacement


def _restore(ctx, undo):
    name, own, replacement = undo
    # Only what we put there is taken away: the journey may have replaced it itself, and
    # mite_http deletes `ctx.http` on its own when the session closes.
    if getattr(ctx, "__dict__", {}).get(name, _MISSING) is not replacement:
        return
    if own is _MISSING:
        delattr(ctx, name)
    else:
        setattr(ctx, name, own)


@contextmanager
def traced_context(ctx):
    """For the block: marks the code as inside a traced journey, and traces `ctx.transaction`
    and `ctx.http` (when the context has them)."""
    token = in_traced_journey.set(True)
    undos = [_swap(ctx, "transaction", traced_transaction), _swap(ctx, "http", TracedSession)]
    try:
        yield ctx
    finally:
        for undo in reversed(undos):
            if undo is not None:
                _restore(ctx, undo)
        in_traced_journey.reset(token)
