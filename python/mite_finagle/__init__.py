"""`@mite_finagle`: thrift calls to Finagle services over mux, each timed as a `finagle_metrics` message."""

import asyncio
import time
from contextlib import asynccontextmanager
from functools import wraps
from itertools import count

from . import _extra
from .mux import CanTinit, Discarded, Dispatch, Init, Lease, Message, Ping

if _extra.thrift is not None:
    from .thrift import _ThriftError

# Looked up by name on every call: tests replace it to pin the tags sent.
_TAGS = count(1)
# The tasks inside a connection. asyncio keeps tasks only weakly and a journey waiting on its
# connection (a stream it alone references) can be collected mid-await, leaving the runner
# waiting for it forever ("Task was destroyed but it is pending!"); this keeps them alive.
_HELD_TASKS = set()
# Mux tags are 23 bits (the top bit of the 3 bytes marks fragments); 0 is never a call's tag.
_MAX_TAG = (1 << 23) - 1


class MiteFinagleError(Exception):
    pass


class MiteFinagleConnection:
    """One mux session to `address:port`; used as an async context manager."""

    def __init__(self, context, address, port):
        self._context = context
        self._address = address
        self._port = port
        self._replies = asyncio.Queue()
        self._in_flight = {}  # tag -> [factory, sent time]
        self._pending = ()

    async def __aenter__(self):
        self._task = asyncio.current_task()
        _HELD_TASKS.add(self._task)
        try:
            self._reader, self._writer = await asyncio.open_connection(self._address, self._port)
        except BaseException:
            _HELD_TASKS.discard(self._task)
            raise
        return self

    async def __aexit__(self, exc_type, exc, tb):
        try:
            for task in self._pending:
                task.cancel()
            self._writer.close()
            await self._writer.wait_closed()
        finally:
            _HELD_TASKS.discard(self._task)

    async def replies(self):
        """Yields the reply of each call made with `send`, in the order they arrive."""
        loop = asyncio.ensure_future(self._main_loop())
        get = asyncio.ensure_future(self._replies.get())
        self._pending = {loop, get}
        while True:
            done, self._pending = await asyncio.wait(
                self._pending, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                yield self._process_result(task.result())
            if get in done:
                get = asyncio.ensure_future(self._replies.get())
                self._pending.add(get)

    async def send(self, factory, *args, mux_context={}, **kwargs):  # noqa: B006 (never mutated)
        """Sends a call built by `factory` from `args`/`kwargs`; returns its tag."""
        tag = (next(_TAGS) - 1) % _MAX_TAG + 1
        msg = Dispatch(tag, mux_context, b"", {}, factory.get_request_bytes(*args, **kwargs))
        # The factory is recorded before sending: the reply may be read by another task
        # before this one resumes. The send time is added once it is known.
        self._in_flight[tag] = [factory, None]
        self._in_flight[tag][1] = await self._send_raw(msg)
        return tag

    async def _send_raw(self, mux_msg):
        self._writer.write(mux_msg.to_bytes())
        sent_time = time.time()
        await self._writer.drain()
        return sent_time

    async def send_and_wait(self, msg_factory, *args, mux_context={}, **kwargs):  # noqa: B006
        """Sends a call and returns its reply; a thrift error raises `MiteFinagleError`."""
        tag = await self.send(msg_factory, *args, mux_context=mux_context, **kwargs)
        return self._process_result(await self._main_loop(return_msg=tag))

    async def _main_loop(self, return_msg=None, return_after_reply=None):
        """Reads messages, answering the peer's control messages, until the reply tagged
        `return_msg` (or a reply of type `return_after_reply`) arrives; other replies queue."""
        while True:
            message = await Message.read_from_async_stream(self._reader)
            if message.type in (Ping.type, Init.type, CanTinit.type):
                await self._send_raw(message.make_reply())
            elif message.type in (Ping.Reply.type, Init.Reply.type, CanTinit.Reply.type):
                if return_after_reply is not None and return_after_reply.Reply.type == message.type:
                    return
            elif message.type == Dispatch.Reply.type:
                reply = self._reply_received(message)
                if return_msg is not None and return_msg == message.tag:
                    return reply
                self._replies.put_nowait(reply)
            elif message.type in (Lease.type, Discarded.type, -62):
                pass  # leases and discard notices need no answer
            else:
                raise ValueError("unknown type")

    def _reply_received(self, message):
        if (data := self._in_flight.pop(message.tag, None)) is None:
            raise ValueError("unknown reply tag received")
        factory, sent_time = data
        reply = factory.get_reply_object(message.body)
        try:
            reply._sent_time = sent_time
        except AttributeError:
            pass  # a void function's None, or a plain value: nothing to chain a wait on
        self._send_stat(
            name=factory._stats_name, sent_time=sent_time, had_error=isinstance(reply, _ThriftError)
        )
        return reply

    def _send_stat(self, name, sent_time, had_error):
        self._context.send(
            "finagle_metrics",
            start_time=sent_time,
            total_time=time.time() - sent_time,
            function=name,
            had_error=had_error,
        )

    def _process_result(self, result):
        if isinstance(result, _ThriftError):
            raise MiteFinagleError("encountered thrift error", result._wrapped)
        return result


class MiteFinagle:
    """`ctx.finagle` inside a `@mite_finagle` journey."""

    def __init__(self, context):
        self._context = context

    @asynccontextmanager
    async def connect(self, address, port):
        conn = MiteFinagleConnection(self._context, address, port)
        async with conn:
            yield conn


def mite_finagle(f):
    """Gives the journey `ctx.finagle` for its duration."""

    @wraps(f)
    async def inner(ctx, *args, **kwargs):
        if getattr(ctx, "finagle", None) is not None:
            raise Exception("Context has had mite_finagle applied twice -- this is a bug")
        ctx.finagle = MiteFinagle(ctx)
        try:
            return await f(ctx, *args, **kwargs)
        finally:
            del ctx.finagle

    return inner


if _extra.thrift is None:
    # Without thrift the package still imports (so `mite stats` can count finagle messages
    # from other hosts, and `mite_finagle.mux` works), but the client API raises the one-line error.
    _API = ("MiteFinagleError", "MiteFinagleConnection", "MiteFinagle", "mite_finagle")
    for _name in _API:
        del globals()[_name]

    def __getattr__(name):
        if name in _API or name == "thrift":
            raise _extra.missing()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
