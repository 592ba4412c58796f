"""`mite controller` and `mite runner` over ZeroMQ (mite 2.11's REQ/REP protocol).

The controller runs the scenario's volume models and datapools in Python; work requests arrive
on a REP socket, read on an executor thread with the GIL released. Runners PUSH their messages
through the native pipeline thread, so journeys never wait for the network.
"""

import asyncio
import json
import logging
import os
import sys
from urllib.request import Request, urlopen

from .. import _native
from .._protocol import BYE, HELLO, REQUEST_WORK, read_request
from ..controller import Controller
from ..scenario import ScenarioError
from ..utils import pack_msg, unpack_msg
from .common import (
    UsageError,
    _create_config_manager,
    _create_runner,
    _create_scenario_manager,
    _get_scenario_with_kwargs,
    check_scenarios,
)
from .graceful import GRACE_SECONDS, STOP_SIGNALS, GracefulStop
from .parent import follow_parent, tell_parent

logger = logging.getLogger(__name__)

# A runner gives up on a controller that has not answered a work request for this long.
CONTROLLER_TIMEOUT = float(os.environ.get("MITE_CONTROLLER_TIMEOUT", "15"))


def _new_loop():
    from .test import _new_loop as new

    return new()


def _forwarding_pipeline(address):
    return _native.LocalPipeline(
        collector_dir=None, recorder_dir=None, console=False, log_messages=False, forward=address
    )


def _log_totals(name, result):
    by_type = " ".join(f"{k}={v}" for k, v in sorted(result["by_type"].items()))
    logger.info(
        "%s totals: sent=%d forwarded=%d dropped=%d %s",
        name,
        result["sent"],
        result["forwarded"],
        result["forward_dropped"],
        by_type,
    )


# --- controller -------------------------------------------------------------------------------


def _webhook(url, path, body):
    if not url.endswith("/"):
        url += "/"
    req = Request(f"{url}{path}", data=json.dumps(body, separators=(",", ":")).encode(), method="POST")
    with urlopen(req, timeout=10) as resp:
        return resp.status, resp.read()


def _log_start(spec, url):
    logger.info("Logging test start to %sstart", url if url.endswith("/") else url + "/")
    try:
        status, body = _webhook(url, "start", {"testname": spec})
    except OSError as e:
        logger.warning("Could not complete test start logging: %s", e)
        return None
    if status == 200:
        try:
            return json.loads(body)["newid"]
        except (ValueError, KeyError, TypeError):
            logger.warning("Test start logging answered without a newid")
            return None
    logger.warning("Could not complete test start logging; status was %s", status)
    return None


def _log_end(logging_id, url):
    if logging_id is None:
        return
    try:
        status, _ = _webhook(url, "end", {"id": logging_id})
    except OSError as e:
        logger.warning("Could not complete test end logging: %s", e)
        return
    if status != 204:
        logger.warning("Could not complete test end logging; status was %s", status)


class Served:
    requests = 0
    malformed = 0
    failure = None


def _finished(controller, served):
    if served.failure is not None:
        # After a scenario error, runners are told to stop; wait until they have said bye.
        return controller._runner_tracker.get_active_count() == 0
    return controller.should_stop()


async def answer(controller, raw, served):
    """The reply to one controller request (a frame), with `served` kept up to date; returns
    `(kind, reply)` (kind None for a bad request). Shared by `mite controller` and the parent of
    `--runners=N`."""
    served.requests += 1
    try:
        kind, content = read_request(raw)
        if kind == HELLO:
            reply = controller.hello()
        elif kind == REQUEST_WORK and served.failure is not None:
            controller.request_work_stopped(*content)
            reply = ([], [], True)
        elif kind == REQUEST_WORK:
            try:
                reply = await controller.request_work(*content)
            except ScenarioError as e:
                served.failure = e
                logger.error("%s; runners are told to stop", e)
                reply = ([], [], True)
        else:
            reply = controller.bye(content)
        return kind, reply
    except Exception as e:
        # REP must answer every request; a bad one gets None and the controller lives on.
        served.malformed += 1
        logger.warning("bad request of %d bytes on the controller socket: %s", len(raw), e)
        return None, None


async def _serve(controller, server, stopping):
    loop = asyncio.get_running_loop()
    served = Served()
    while not stopping and not _finished(controller, served):
        raw = await loop.run_in_executor(None, server.recv, 200)
        if raw is None:
            continue
        _, reply = await answer(controller, raw, served)
        server.send(pack_msg(reply))
    return served


async def _report(controller, sink):
    while True:
        await asyncio.sleep(1)
        controller.report(sink.send)


async def _controller_main(controller, server, sink):
    loop = asyncio.get_running_loop()
    stopping = []
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stopping.append, signum)
    reporter = loop.create_task(_report(controller, sink))
    try:
        return await _serve(controller, server, stopping), stopping
    finally:
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)


def controller(opts):
    spec = opts["SCENARIO_SPEC"]
    config_manager = _create_config_manager(opts)
    scenario_manager = _create_scenario_manager(opts, config_manager)
    pipeline = _forwarding_pipeline(opts["--message-socket"])
    sink = pipeline.sink
    try:
        scenarios = check_scenarios(spec, _get_scenario_with_kwargs(spec, config_manager, sink))
        for journey_spec, datapool, volume_model in scenarios:
            scenario_manager.add_scenario(journey_spec, datapool, volume_model)
        ctrl = Controller(spec, scenario_manager, config_manager)
        server = _native.Socket("REP", opts["--controller-socket"], bind=True)
    except BaseException:
        pipeline.finish(report=False)
        raise
    url = opts.get("--logging-webhook") or os.environ.get("MITE_LOGGING_URL")
    logging_id = _log_start(spec, url) if url else None
    loop = _new_loop()
    stopping = []
    served = None
    try:
        served, stopping = loop.run_until_complete(_controller_main(ctrl, server, sink))
        logger.info("controller served %d requests (%d bad)", served.requests, served.malformed)
    finally:
        try:
            ctrl.report(sink.send)
        except ScenarioError as e:
            # The last report asks the volume model once more; a failure there is the run's.
            if served is not None and served.failure is None:
                served.failure = e
        loop.close()
        server.close(0)
        if url:
            _log_end(logging_id, url)
        _log_totals("controller", pipeline.finish(report=False))
    if stopping:
        logger.info("Received interrupt signal, shutting down")
    if served is not None and served.failure is not None:
        print(f"mite: error: {served.failure}", file=sys.stderr)
        return 1
    return 0


# --- runner -----------------------------------------------------------------------------------


class ControllerGone(Exception):
    pass


class ZmqRunnerTransport:
    """The runner's side of the controller protocol over a REQ socket."""

    def __init__(self, address):
        self._address = address
        self._sock = _native.Socket("REQ", address)

    def _roundtrip(self, msg, timeout):
        self._sock.send(pack_msg(msg))
        if timeout is None:
            waited = False
            while True:
                reply = self._sock.recv(10_000)
                if reply is not None:
                    if waited:
                        # Ends the "waiting" lines, so a runner's last log line is not stale.
                        logger.info("the controller at %s answered", self._address)
                    return unpack_msg(reply)
                waited = True
                logger.info("waiting for the controller at %s", self._address)
        reply = self._sock.recv(int(timeout * 1000))
        if reply is None:
            raise ControllerGone(
                f"the controller at {self._address} did not answer for {timeout:g} s; the runner stops"
            )
        return unpack_msg(reply)

    async def _call(self, msg, timeout=CONTROLLER_TIMEOUT):
        return await asyncio.get_running_loop().run_in_executor(None, self._roundtrip, msg, timeout)

    async def hello(self):
        # The controller may start after the runner: wait for it as long as it takes.
        return await self._call((HELLO, None), timeout=None)

    async def request_work(self, runner_id, current_work, completed_data_ids, max_work):
        reply = await self._call((REQUEST_WORK, [runner_id, current_work, completed_data_ids, max_work]))
        if not (isinstance(reply, tuple | list) and len(reply) == 3):
            raise ControllerGone(f"the controller at {self._address} answered a work request with {reply!r}")
        return reply

    async def bye(self, runner_id):
        return await self._call((BYE, runner_id))

    def close(self):
        self._sock.close(0)


async def _runner_main(runner):
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    run_task = loop.create_task(runner.run())
    stop = GracefulStop(loop, runner, [run_task, main_task], logger)
    stop.install()
    try:
        await run_task
    except ControllerGone:
        runner.stop()
        deadline = loop.time() + GRACE_SECONDS
        while runner.running() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        stop.cancel_journeys()
        await asyncio.sleep(0)
        raise
    return stop.interrupted


def runner(opts):
    follow_parent()
    pipeline = _forwarding_pipeline(opts["--message-socket"])
    sink = pipeline.sink
    transport = ZmqRunnerTransport(opts["--controller-socket"])
    runner = _create_runner(opts, transport, sink)
    loop = _new_loop()
    failure = None
    try:
        loop.run_until_complete(_runner_main(runner))
    except ControllerGone as e:
        failure = str(e)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        transport.close()
        totals = pipeline.finish(report=False)
        _log_totals("runner", totals)
        tell_parent(totals)
    if failure:
        print(f"mite: error: {failure}", file=sys.stderr)
        return 1
    return 0


__all__ = ["controller", "runner", "UsageError"]
