"""AMQP journeys: `@mite_amqp` gives `ctx.amqp`, which connects with `aio_pika` and builds its
messages; an AMQP failure becomes an `AMQPError` (an `error` message)."""

import asyncio
import logging
from contextlib import asynccontextmanager

from mite._extras import MissingExtraError
from mite.exceptions import MiteError

__all__ = ["AMQPError", "mite_amqp"]


try:
    # Looked up as `aio_pika.connect` at call time, so that tests may patch it.
    import aio_pika
except ImportError:
    raise MissingExtraError(
        'mite_amqp needs the aio-pika library: pip install "mite[amqp]"', name="aio_pika"
    ) from None

logger = logging.getLogger(__name__)

# Journeys inside `_amqp_context_manager`. asyncio keeps only weak references to tasks, and while
# aio-pika's connection handshake waits, its stream reader is reachable only through a weakref
# (asyncio's StreamReaderProtocol): the cyclic GC could destroy the pending journey task, and a
# runner waiting for it would wait forever. Seen under `mite scenario test`; this keeps them.
_journey_tasks = set()


class AMQPError(MiteError):
    """An AMQP failure (the broker refused, closed the connection or a channel…) in a journey."""


def _describe(exc):
    """The broker's or client's reason for an aio-pika error. mite 2.11 read `exc.message`, which
    aio-pika's errors do not have, so every AMQP failure became an AttributeError there."""
    message = getattr(exc, "message", None)
    if message:
        return str(message)
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        try:
            return reason % exc.args
        except (TypeError, ValueError):
            # A fixed reason ("Unexpected connection problem") with the cause in the arguments.
            return f"{reason}: {exc}" if exc.args else reason
    return str(exc) or type(exc).__name__


class _AMQPWrapper:
    """`ctx.amqp`: `connect`, `connect_robust` (on the journey's loop) and `message`."""

    def __init__(self):
        pass

    def install(self, context):
        context.amqp = self

    def uninstall(self, context):
        del context.amqp

    async def connect_robust(self, *args, **kwargs):
        kwargs.setdefault("loop", asyncio.get_running_loop())
        return await aio_pika.connect_robust(*args, **kwargs)

    async def connect(self, *args, **kwargs):
        kwargs.setdefault("loop", asyncio.get_running_loop())
        return await aio_pika.connect(*args, **kwargs)

    def message(self, body, **kwargs):
        if isinstance(body, str):
            body = body.encode("utf-8")
        return aio_pika.Message(body, **kwargs)


@asynccontextmanager
async def _amqp_context_manager(context):
    aw = _AMQPWrapper()
    aw.install(context)
    task = asyncio.current_task()
    if task is not None:
        _journey_tasks.add(task)
    try:
        yield
    except aio_pika.AMQPException as e:
        raise AMQPError(f"Received an error from AMQP:\n{_describe(e)}") from e
    finally:
        _journey_tasks.discard(task)
        aw.uninstall(context)


def mite_amqp(func):
    """Runs the journey with `ctx.amqp` installed."""

    async def wrapper(ctx, *args, **kwargs):
        async with _amqp_context_manager(ctx):
            return await func(ctx, *args, **kwargs)

    return wrapper
