"""mite 2.11's ZeroMQ classes for custom components (`Sender`, `Receiver`, `Duplicator`,
`RunnerTransport`, `ControllerServer`), over the native sockets the built-in components use.

Socket types, bind/connect roles and msgpack framing are 2.11's, so these interoperate with the
native components and with mite 2.11's. Differences, all where 2.11 lost data or hung: a waiting
socket wakes every `POLL_MS` to check `stop_func` (2.11 checked it only after a frame arrived),
received frames over `MITE_MAX_FRAME_BYTES` or that do not decode are counted and skipped, a
listener that raises is logged and counted, and blocking calls run on a daemon thread, so a peer
that never answers cannot keep the interpreter from exiting. `Receiver.run` waits for frames on
that thread but calls the listeners on the event loop's thread (2.11 called them on an executor
thread), so listeners may be native objects bound to the thread that made them, such as
`mite.collector.Collector`.
"""

import asyncio
import logging
import queue
import sys
import threading
import time

from . import _native
from ._protocol import (
    BYE,
    HELLO,
    MAX_FRAME_BYTES,
    REQUEST_WORK,
    RUNNER_CAPABILITIES,
    FrameTooLarge,
    read_reply,
    read_request,
)
from .utils import pack_msg, unpack_msg

__all__ = ["Sender", "Receiver", "Duplicator", "RunnerTransport", "ControllerServer"]

logger = logging.getLogger(__name__)

# How long a blocking wait lasts before `stop_func` is checked again.
POLL_MS = 200
_MSG_TYPE_HELLO = HELLO
_MSG_TYPE_REQUEST_WORK = REQUEST_WORK
_MSG_TYPE_BYE = BYE


class _Worker:
    """One daemon thread running an object's blocking socket calls in order, resolving asyncio
    futures on the caller's loop. 2.11 used the default executor, whose threads are joined at
    exit: a receiver or runner left waiting there kept the process alive."""

    def __init__(self, name):
        self._name = name
        self._calls = queue.SimpleQueue()
        self._thread = None

    def submit(self, fn, *args, orphan=None):
        """A future for `fn(*args)` run on the thread; if the awaiting task was cancelled
        before the result came, the result goes to `orphan` (on the loop's thread) instead."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        self._calls.put((loop, fut, fn, args, orphan))
        return fut

    def _serve(self):
        while True:
            loop, fut, fn, args, orphan = self._calls.get()
            try:
                settle = (_set_result, fut, fn(*args), orphan)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                settle = (_set_exception, fut, e)
            try:
                loop.call_soon_threadsafe(*settle)
            except RuntimeError:
                pass  # the loop was closed while the call ran; nobody is waiting


def _set_result(fut, value, orphan=None):
    if not fut.done():
        fut.set_result(value)
    elif orphan is not None:
        orphan(value)


def _set_exception(fut, exc):
    if not fut.done():
        fut.set_exception(exc)


async def _run_blocking(worker, fn, stop_func):
    """Runs `fn(should_stop)` on `worker`; it also stops once the awaiting task is cancelled."""
    stopped = threading.Event()

    def should_stop():
        return stopped.is_set() or (stop_func is not None and bool(stop_func()))

    try:
        return await worker.submit(fn, should_stop)
    finally:
        stopped.set()


class _Endpoints:
    """The native sockets behind one 2.11 socket: one per `bind`/`connect` call."""

    _kind = ""

    def __init__(self):
        self._sockets = []
        self._next = 0
        self._worker = _Worker(f"mite.zmq.{type(self).__name__}")

    def bind(self, address):
        self._sockets.append(_native.Socket(self._kind, address, bind=True))
        logger.debug("%s bound to address: %s", type(self).__name__.lower(), address)

    def connect(self, address):
        self._sockets.append(_native.Socket(self._kind, address))
        logger.debug("%s connected to address: %s", type(self).__name__.lower(), address)

    def _recv_batch(self):
        """Frames waiting on any endpoint, after waiting up to about POLL_MS for one."""
        if not self._sockets:
            time.sleep(POLL_MS / 1000)
            return []
        if len(self._sockets) == 1:
            return self._sockets[0].recv_batch(POLL_MS)
        wait = max(1, POLL_MS // len(self._sockets))
        for _ in self._sockets:
            sock = self._sockets[self._next]
            self._next = (self._next + 1) % len(self._sockets)
            frames = sock.recv_batch(wait)
            if frames:
                return frames
        return []

    def close(self, linger_ms=0):
        """Closes every endpoint (not in 2.11, where sockets lived until the process ended)."""
        for sock in self._sockets:
            sock.close(linger_ms)
        self._sockets = []


class Sender(_Endpoints):
    """PUSH: `send(msg)` packs one message a frame and blocks while the queue is full, as in 2.11."""

    _kind = "PUSH"

    def send(self, msg):
        if not self._sockets:
            raise RuntimeError("Sender.send: the sender is neither bound nor connected")
        # One socket per endpoint, so spread frames over them as one PUSH socket would.
        sock = self._sockets[self._next % len(self._sockets)]
        self._next += 1
        sock.send(pack_msg(msg))

    def close(self, linger_ms=10_000):
        """Closes the sender, giving queued messages `linger_ms` to leave."""
        super().close(linger_ms)


class Receiver(_Endpoints):
    """PULL: each frame goes to the raw listeners as bytes, then decoded to the listeners."""

    _kind = "PULL"

    def __init__(self, listeners=None, raw_listeners=None, loop=None):
        super().__init__()
        self._listeners = listeners or []
        self._raw_listeners = raw_listeners or []
        self.counts = {"received": 0, "malformed": 0, "oversize": 0, "failed": 0}
        # Frames received for a `run` that was cancelled meanwhile; the next `run` starts with them.
        self._held = []

    def add_listener(self, listener):
        self._listeners.append(listener)

    def add_raw_listener(self, listener):
        self._raw_listeners.append(listener)

    def _recv(self):
        """One frame, waiting as long as it takes (as 2.11's blocking `recv`)."""
        while True:
            for sock in self._sockets:
                raw = sock.recv(POLL_MS // max(1, len(self._sockets)))
                if raw is not None:
                    return raw
            if not self._sockets:
                time.sleep(POLL_MS / 1000)

    def _hold(self, frames):
        self._held.extend(frames)

    async def run(self, stop_func=None):
        while stop_func is None or not stop_func():
            if not self._held:
                frames = await self._worker.submit(self._recv_batch, orphan=self._hold)
                # Frames of an earlier, cancelled `run` were held first: arrival order is kept.
                self._held.extend(frames)
            frames, self._held = self._held, []
            for raw in frames:
                self._dispatch(raw)

    def _run(self, stop_func=None):
        """The blocking form of `run`: listeners are called on the calling thread."""
        while stop_func is None or not stop_func():
            frames, self._held = self._held, []
            for raw in frames or self._recv_batch():
                self._dispatch(raw)

    def _dispatch(self, raw):
        counts = self.counts
        counts["received"] += 1
        if len(raw) > MAX_FRAME_BYTES:
            counts["oversize"] += 1
            logger.warning("skipped a frame of %d bytes (over MITE_MAX_FRAME_BYTES)", len(raw))
            return
        for raw_listener in self._raw_listeners:
            self._call(raw_listener, raw)
        if not self._listeners:
            return
        try:
            msg = unpack_msg(raw)
        except Exception as e:
            counts["malformed"] += 1
            logger.warning("skipped a malformed frame of %d bytes: %s", len(raw), e)
            return
        for listener in self._listeners:
            self._call(listener, msg)

    def _call(self, listener, arg):
        try:
            listener(arg)
        except Exception:
            self.counts["failed"] += 1
            logger.exception("listener %r raised", listener)


class Duplicator:
    """PULL bound at `in_address`; every frame is PUSHed without blocking to each bound
    `out_addresses` socket. A full output drops the frame with an error log, as in 2.11 (the
    native `mite duplicator` keeps a backlog instead)."""

    def __init__(self, in_address, out_addresses, loop=None):
        self._in_socket = _native.Socket("PULL", in_address, bind=True)
        self._out_sockets = [(address, _native.Socket("PUSH", address, bind=True)) for address in out_addresses]
        self._worker = _Worker("mite.zmq.Duplicator")
        self._debug_messages_to_dump = 0
        self.counts = {"received": 0, "forwarded": 0, "oversize": 0, "full": 0}

    async def run(self, stop_func=None):
        return await _run_blocking(self._worker, self._run, stop_func)

    def _run(self, stop_func=None):
        while stop_func is None or not stop_func():
            for raw in self._in_socket.recv_batch(POLL_MS):
                self._forward(raw)

    def _forward(self, raw):
        counts = self.counts
        counts["received"] += 1
        if len(raw) > MAX_FRAME_BYTES:
            counts["oversize"] += 1
            logger.warning("skipped a frame of %d bytes (over MITE_MAX_FRAME_BYTES)", len(raw))
            return
        if self._debug_messages_to_dump > 0:
            self._debug_messages_to_dump -= 1
            try:
                sys.stdout.write(str(unpack_msg(raw)) + "\n")
            except Exception as e:
                sys.stdout.write(f"<malformed frame of {len(raw)} bytes: {e}>\n")
        for address, sock in self._out_sockets:
            if sock.send(raw, 0):
                counts["forwarded"] += 1
            else:
                counts["full"] += 1
                logger.error("Duplicator message buffer full for address %s; the message is dropped", address)

    def close(self):
        self._in_socket.close(0)
        for _, sock in self._out_sockets:
            sock.close(0)


class ControllerGone(Exception):
    """The controller did not answer in time (a `RunnerTransport` given a `timeout`), answered
    with something that is not a reply, or the runner was told to stop while it waited."""


class RunnerTransport:
    """The runner's side of the controller protocol: REQ connected to `socket_address`.

    As in 2.11, a reply is awaited as long as it takes (the wait is logged every 10 s). Beyond
    2.11: with `timeout` (seconds), a work request or bye not answered in that time raises
    ControllerGone (`hello` still waits: the controller may start after the runner); after
    `interrupt()` (a stop signal), a wait for `hello` ends at once and any other wait within
    `grace` seconds, with ControllerGone, so a runner whose controller is gone obeys SIGTERM.
    With `arrival_rate`, the runner takes arrival-rate leases: work replies may have a 4th field."""

    def __init__(self, socket_address, loop=None, *, timeout=None, grace=5.0, arrival_rate=False):
        self._address = socket_address
        self._arrival_rate = arrival_rate
        self._sock = _native.Socket("REQ", socket_address)
        self._worker = _Worker("mite.zmq.RunnerTransport")
        self._timeout = timeout
        self._grace = grace
        self._interrupted = threading.Event()
        self._interrupted_at = None

    @property
    def address(self):
        return self._address

    def interrupt(self):
        """A stop signal arrived: waits for the controller end now (hello) or within `grace`."""
        if self._interrupted_at is None:
            self._interrupted_at = time.monotonic()
        self._interrupted.set()

    def _deadline(self, started, timeout):
        ends = [] if timeout is None else [started + timeout]
        if self._interrupted_at is not None:
            # hello (no timeout) ends at once; each other call gets `grace` from the signal or
            # from its own start, so a live controller still hears the last work request and bye.
            ends.append(self._interrupted_at if timeout is None else max(started, self._interrupted_at) + self._grace)
        return min(ends) if ends else None

    def _roundtrip(self, msg, timeout, should_stop=None):
        self._sock.send(pack_msg(msg))
        started = time.monotonic()
        next_log = started + 10
        waited = False
        while True:
            deadline = self._deadline(started, timeout)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                if self._interrupted.is_set() and timeout is None:
                    raise ControllerGone(f"stopped while waiting for the controller at {self._address}")
                if self._interrupted.is_set() and now < started + timeout:
                    raise ControllerGone(f"the controller at {self._address} did not answer within {self._grace:g} s of the stop signal; the runner stops")
                raise ControllerGone(f"the controller at {self._address} did not answer for {timeout:g} s; the runner stops")
            if should_stop is not None and should_stop():
                raise ControllerGone(f"stopped while waiting for the controller at {self._address}")
            wait = POLL_MS if deadline is None else max(1, min(POLL_MS, int((deadline - now) * 1000)))
            raw = self._sock.recv(wait)
            if raw is not None:
                break
            if time.monotonic() >= next_log:
                waited = True
                next_log += 10
                logger.info("waiting for the controller at %s", self._address)
        if waited:
            # Ends the "waiting" lines, so a runner's last log line is not stale.
            logger.info("the controller at %s answered", self._address)
        try:
            return read_reply(raw)
        except FrameTooLarge:
            raise ControllerGone(f"the controller at {self._address} answered with {len(raw)} bytes, over MITE_MAX_FRAME_BYTES") from None

    async def _call(self, msg, timeout):
        return await _run_blocking(self._worker, lambda should_stop: self._roundtrip(msg, timeout, should_stop), None)

    async def hello(self):
        # With `arrival_rate` (mite's own runner), our controller leases arrival-rate work in a
        # 4th reply field; a 2.11 controller ignores the content. Without, replies are 2.11's.
        return await self._call((_MSG_TYPE_HELLO, RUNNER_CAPABILITIES if self._arrival_rate else None), None)

    async def request_work(self, runner_id, current_work, completed_data_ids, max_work):
        logger.debug(
            "Requesting work runner_id=%s current_work=%s completed_data_ids=%s max_work=%s",
            runner_id,
            current_work,
            completed_data_ids,
            max_work,
        )
        reply = await self._call((_MSG_TYPE_REQUEST_WORK, [runner_id, current_work, completed_data_ids, max_work]), self._timeout)
        if not (isinstance(reply, tuple | list) and len(reply) in (3, 4)):
            # 2.11 failed unpacking it with a traceback.
            raise ControllerGone(f"the controller at {self._address} answered a work request with {reply!r}")
        return reply

    async def bye(self, runner_id):
        logger.debug("Saying bye")
        return await self._call((_MSG_TYPE_BYE, runner_id), self._timeout)

    def close(self):
        self._interrupted.set()
        self._sock.close(0)


class ControllerServer:
    """The controller's side: REP bound at `socket_address`, answering with `controller`'s
    `hello()`, `await request_work(...)` and `bye(runner_id)`. A request that cannot be decoded
    or has an unknown type is answered with None and counted (2.11 raised and the controller
    died); the event loop keeps running while it waits (2.11 blocked it in `recv`)."""

    def __init__(self, socket_address, loop=None):
        self._sock = _native.Socket("REP", socket_address, bind=True)
        self._worker = _Worker("mite.zmq.ControllerServer")
        self.counts = {"requests": 0, "malformed": 0}
        # A request that arrived for a `run` cancelled meanwhile: REP owes it an answer.
        self._held = []

    async def run(self, controller, stop_func=None):
        while stop_func is None or not stop_func():
            if self._held:
                raw = self._held.pop()
            else:
                raw = await self._worker.submit(self._sock.recv, POLL_MS, orphan=self._held.append)
            if raw is None:
                self._held.clear()
                continue
            self.counts["requests"] += 1
            reply = await self._answer(controller, raw)
            self._sock.send(pack_msg(reply))
            # Let other coroutines (the controller report) run between requests.
            await asyncio.sleep(0)

    async def _answer(self, controller, raw):
        try:
            _type, content = read_request(raw)
        except Exception as e:
            # REP must answer every request: a bad one gets None and the server lives on.
            self.counts["malformed"] += 1
            logger.warning("bad request of %d bytes on the controller socket: %s", len(raw), e)
            return None
        if _type == _MSG_TYPE_HELLO:
            return controller.hello() if content is None else controller.hello(content)
        if _type == _MSG_TYPE_REQUEST_WORK:
            return await controller.request_work(*content)
        return controller.bye(content)

    def close(self):
        self._sock.close(0)
