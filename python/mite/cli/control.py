"""`mite controller` and `mite runner` over ZeroMQ (mite 2.11's REQ/REP protocol).

The protocol is spoken by `mite.zmq` alone (`ControllerServer`, `RunnerTransport`, 2.11's API);
this module adds the command-line behaviour around them: the controller's scenario-error stop
and webhook, the runner's reply timeout and its prompt exit on a stop signal. The controller runs
the scenario's volume models and datapools in Python; runners PUSH their messages through the
native pipeline thread, so journeys never wait for the network.
"""

import asyncio
import json
import logging
import os
import sys
from urllib.request import Request, urlopen

from .. import _native
from ..controller import Controller
from ..scenario import ScenarioError
from ..zmq import ControllerGone, ControllerServer, RunnerTransport
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


class _Scenario:
    """The controller as `ControllerServer` sees it: after a scenario error (a volume model or
    datapool that raised) or a stop signal, every work request is answered "stop" until the
    runners said bye."""

    def __init__(self, controller):
        self.controller = controller
        self.failure = None
        self.stopping = False

    def hello(self, capabilities=None):
        return self.controller.hello(capabilities)

    async def request_work(self, *content):
        if self.failure is None and not self.stopping:
            try:
                return await self.controller.request_work(*content)
            except ScenarioError as e:
                self.failure = e
                logger.error("%s; runners are told to stop", e)
                return ([], [], True)
        self.controller.request_work_stopped(*content)
        return ([], [], True)

    def bye(self, runner_id):
        return self.controller.bye(runner_id)

    def finished(self):
        if self.failure is not None or self.stopping:
            # Runners are told to stop; wait until they have said bye.
            return self.controller._runner_tracker.get_active_count() == 0
        return self.controller.should_stop()


async def _report(controller, sink):
    while True:
        await asyncio.sleep(1)
        controller.report(sink.send)


async def _controller_main(scenario, server, sink):
    loop = asyncio.get_running_loop()
    stopping = []
    # After a stop signal the runners are told to stop at their next work request and get the
    # runner's grace (and a little) to finish and say bye; a second signal ends it at once.
    deadline = []

    def on_signal(signum):
        stopping.append(signum)
        scenario.stopping = True
        deadline.append(loop.time() + GRACE_SECONDS + 2.0)

    def done():
        if len(stopping) > 1 or (deadline and loop.time() > deadline[0]):
            return True
        return scenario.finished()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    reporter = loop.create_task(_report(scenario.controller, sink))
    try:
        await server.run(scenario, done)
        return stopping
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
        server = ControllerServer(opts["--controller-socket"])
    except BaseException:
        pipeline.finish(report=False)
        raise
    url = opts.get("--logging-webhook") or os.environ.get("MITE_LOGGING_URL")
    logging_id = _log_start(spec, url) if url else None
    loop = _new_loop()
    stopping = []
    scenario = _Scenario(ctrl)
    try:
        stopping = loop.run_until_complete(_controller_main(scenario, server, sink))
        counts = server.counts
        logger.info("controller served %d requests (%d bad)", counts["requests"], counts["malformed"])
    finally:
        try:
            ctrl.report(sink.send)
        except ScenarioError as e:
            # The last report asks the volume model once more; a failure there is the run's.
            if scenario.failure is None:
                scenario.failure = e
        loop.close()
        server.close()
        if url:
            _log_end(logging_id, url)
        _log_totals("controller", pipeline.finish(report=False))
    if stopping:
        logger.info("Received interrupt signal, shutting down")
    if scenario.failure is not None:
        print(f"mite: error: {scenario.failure}", file=sys.stderr)
        return 1
    return 0


# --- runner -----------------------------------------------------------------------------------


async def _runner_main(runner, transport):
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    run_task = loop.create_task(runner.run())
    stop = GracefulStop(loop, runner, [run_task, main_task], logger, on_stop=transport.interrupt)
    stop.install()
    try:
        await run_task
    except ControllerGone:
        if stop.interrupted and runner._core is None:
            # Stopped before the controller ever answered: nothing ran, nothing to report.
            logger.info("stopped before the controller at %s answered", transport.address)
            return stop.interrupted
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
    transport = RunnerTransport(
        opts["--controller-socket"], timeout=CONTROLLER_TIMEOUT, grace=GRACE_SECONDS, arrival_rate=True
    )
    runner = _create_runner(opts, transport, sink)
    loop = _new_loop()
    failure = None
    try:
        loop.run_until_complete(_runner_main(runner, transport))
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
