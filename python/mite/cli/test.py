"""`mite scenario test`, `journey test` and `journey run`: controller, runner and the native
message pipeline in one process."""

import asyncio
import gc
import logging
import os
import signal
import sys
import tracemalloc

from .._native import LocalPipeline, unpack_msg
from .._protocol import RUNNER_CAPABILITIES
from ..controller import Controller
from ..datapools import SingleRunDataPoolWrapper
from ..logoutput import NATIVE
from ..scenario import ScenarioError
from ..utils import spec_import
from ..volume_model import oneshot_vm
from . import progress
from .common import (
    UsageError,
    _create_config_manager,
    _create_runner,
    _create_scenario_manager,
    _get_scenario_with_kwargs,
    check_scenarios,
)
from .graceful import GracefulStop
from .results import results_request
from .runners import EXIT_RUNNER_DIED, RunnerProcesses
from .runners import count as runner_count

LOG_FORMAT = "[%(asctime)s] <%(levelname)s> [%(name)s] [%(pathname)s:%(lineno)d %(funcName)s] %(message)s"
STAGE_PERIOD = 0.1
logger = logging.getLogger(__name__)


class DirectRunnerTransport:
    """The runner's side of the controller protocol, as direct calls within one process."""

    def __init__(self, controller):
        self._controller = controller

    async def hello(self):
        return self._controller.hello(RUNNER_CAPABILITIES)

    async def request_work(self, runner_id, current_work, completed_data_ids, max_work):
        return await self._controller.request_work(runner_id, current_work, completed_data_ids, max_work)

    async def bye(self, runner_id):
        return self._controller.bye(runner_id)


class _PythonStage:
    """User processors and the collector filter: run on the loop thread, in batches."""

    def __init__(self, opts, specs, sink):
        self.sink = sink
        self.listeners, self.raw_listeners, self.closers = [], [], []
        self.failures = []
        self.filter = None
        for spec in specs:
            processor = spec_import(spec)(opts)
            if hasattr(processor, "process_message"):
                self.listeners.append((spec, processor.process_message))
            elif hasattr(processor, "process_raw_message"):
                self.raw_listeners.append((spec, processor.process_raw_message))
            else:
                raise UsageError(f"message processor {spec} has no process_message or process_raw_message method")
            if hasattr(processor, "close"):
                self.closers.append(processor.close)
        if opts.get("--collector-filter"):
            self.filter = spec_import(opts["--collector-filter"])
        # --influxdb=N: stats written to N InfluxDB destinations, after the user's processors.
        if opts.get("--influxdb") and int(opts["--influxdb"]) > 0:
            from ..influxdb_processor import InfluxDBProcessor

            suffixes = ["" if i == 0 else f"_{i + 1}" for i in range(int(opts["--influxdb"]))]
            processor = InfluxDBProcessor(opts, suffixes=suffixes)
            self.listeners.append(("--influxdb", processor.process_message))
            self.closers.append(processor.close)

    @property
    def needed(self):
        return bool(self.listeners or self.raw_listeners or self.filter)

    def _call(self, group, spec, listener, arg):
        try:
            listener(arg)
        except Exception as e:
            # A broken processor is dropped; the run goes on and fails at the end, in one line.
            group.remove((spec, listener))
            self.failures.append(f"message processor {spec} raised {type(e).__name__}: {e}")
            logger.error(self.failures[-1])

    def drain(self):
        for raw in self.sink.take_tapped():
            if self.filter is not None:
                self.sink.collect(raw, bool(self.filter(raw)))
            for spec, listener in list(self.raw_listeners):
                self._call(self.raw_listeners, spec, listener, raw)
            if self.listeners:
                msg = unpack_msg(raw)
                for spec, listener in list(self.listeners):
                    self._call(self.listeners, spec, listener, msg)

    async def run(self):
        while True:
            await asyncio.sleep(STAGE_PERIOD)
            self.drain()

    def close(self):
        for close in self.closers:
            try:
                close()
            except Exception as e:
                self.failures.append(f"{type(e).__name__}: {e}")
                logger.error(self.failures[-1])


def _new_loop():
    if os.environ.get("MITE_PROFILE", "0") != "1":
        try:
            import uvloop

            return uvloop.new_event_loop()
        except ImportError:
            pass
    return asyncio.new_event_loop()


async def _controller_report(controller, sink):
    while True:
        await asyncio.sleep(1)
        controller.report(sink.send)


async def _memory_snapshots(interval=60):
    initial = tracemalloc.take_snapshot()
    last = None
    while True:
        await asyncio.sleep(interval)
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        for title, base in (("initial", initial), ("last", last)):
            if base is None:
                continue
            print(f"Differences from {title}:")
            for stat in snapshot.compare_to(base, "lineno")[:10]:
                print(stat)
        last = snapshot


def _percentiles(text):
    pairs = []
    for part in text.split(","):
        p, t = part.split(":")
        pairs.append((int(p), int(t)))
    return pairs


async def _main(opts, controller, runner, stage, sink, interrupted):
    loop = asyncio.get_running_loop()
    helpers = [loop.create_task(_controller_report(controller, sink))]
    if stage.needed:
        helpers.append(loop.create_task(stage.run()))
    if opts.get("--memory-tracing"):
        tracemalloc.start()
        helpers.append(loop.create_task(_memory_snapshots()))
    run_task = loop.create_task(runner.run())
    # Taken here: in the call_later callback that cancels journeys, current_task() is None, and
    # cancelling this task would cancel the runner it awaits.
    main_task = asyncio.current_task()
    if isinstance(runner, RunnerProcesses):
        stop = runner.signal_handler(loop, interrupted)
    else:
        stop = GracefulStop(loop, runner, [*helpers, run_task, main_task], logger, interrupted)
    stop.install()
    try:
        await run_task
    finally:
        stop.remove()
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)


def test_scenarios(test_name, opts, scenarios, config_manager):
    """Runs the scenarios to the end (in `--runners` processes when more than 1); returns the
    exit status."""
    results = results_request(opts, [("test", test_name), ("command", " ".join(["mite", *sys.argv[1:]]))])
    scenarios = check_scenarios(test_name, scenarios)
    scenario_manager = _create_scenario_manager(opts, config_manager)
    for journey_spec, datapool, volume_model in scenarios:
        scenario_manager.add_scenario(journey_spec, datapool, volume_model)
    controller = Controller(test_name, scenario_manager, config_manager)
    native, python_specs = _processor_specs(opts)
    show_progress = progress.wanted(opts)
    pipeline = LocalPipeline(
        collector_dir=opts.get("--collector-dir") or "collector_data",
        collector_roll=int(opts.get("--collector-roll") or 100000),
        collector_use_json=bool(opts.get("--collector-use-json")),
        collector_filtered=bool(opts.get("--collector-filter")),
        recorder_dir=opts.get("--recorder-dir") or "recorder_data",
        console="console" in native,
        hide_constant_logs=bool(opts.get("--hide-constant-logs")),
        journey_logging=bool(opts.get("--journey-logging")),
        log_messages="log_messages" in native,
        # Python consumers read frames on the loop thread; only then are frames kept for them.
        tap=bool(python_specs or opts.get("--collector-filter") or opts.get("--influxdb")),
        # The run record's histograms give the report's percentiles: no sample list is kept.
        record=bool(opts.get("--report") or results is not None),
        progress=show_progress,
    )
    routed = progress.route_lines(pipeline) if show_progress else None
    sink = pipeline.sink
    _SENDER.bind(sink)
    try:
        stage = _PythonStage(opts, python_specs, sink)
    except BaseException:
        pipeline.finish(report=False)
        progress.unroute(routed)
        raise
    processes = None
    number = runner_count(opts.get("--runners"))
    if number > 1:
        controller.expected_runners = number
        runner = processes = RunnerProcesses(opts, number, controller, sink)
    else:
        runner = _create_runner(opts, DirectRunnerTransport(controller), sink)
    loop = _new_loop()
    if opts.get("--debugging"):
        loop.set_debug(True)
    interrupted = []
    failure = None
    # Everything made so far lives for the whole run: keep the cyclic GC from rescanning it.
    gc.collect()
    gc.freeze()
    try:
        if processes is not None:
            processes.start()
        loop.run_until_complete(_main(opts, controller, runner, stage, sink, interrupted))
    except (ScenarioError, TypeError) as e:
        failure = e
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    except RuntimeError:
        # The loop was stopped by the --debugging post-mortem exit; anything else is a bug.
        if runner.exit_code is None:
            raise
    finally:
        if processes is not None:
            # Children reaped and their last frames taken in before the last report.
            processes.finish()
            failure = failure or processes.scenario.failure
        try:
            controller.report(sink.send)
        except ScenarioError as e:
            failure = failure or e
        stage.drain()
        stage.close()
        loop.close()
    result = pipeline.finish(
        report=bool(opts.get("--report")),
        max_errors=int(opts["--max-errors-threshold"]),
        max_response_time_ms=int(opts["--max-response-time-threshold"]),
        mean_response_time_ms=int(opts["--mean-response-time-threshold"]),
        stddev_response_time_ms=int(opts["--standard-deviation-response-time-threshold"]),
        stddev_req_sec=int(opts["--standard-deviation-req-sec-threshold"]),
        percentiles=_percentiles(opts["--benchmark-percentiles"]),
        results=results,
    )
    progress.unroute(routed)
    logger.debug("message totals: %s", result)
    if result["report"]:
        sys.stdout.write(result["report"])
    if result["thresholds"]:
        sys.stdout.write(result["thresholds"])
    sys.stdout.flush()
    for line in result["broken"]:
        logging.error(line)
    if runner.exit_code is not None:
        return runner.exit_code
    if failure is None and stage.failures:
        failure = stage.failures[0]
    if failure is not None:
        print(f"mite: error: {failure}", file=sys.stderr)
        return 1
    if result["write_failures"] or result["report_failures"]:
        # A collector, recorder or report that lost messages fails the run, in one line.
        failures = result["write_failures"] + result["report_failures"]
        print(f"mite: error: {'; '.join(failures)}", file=sys.stderr)
        return 1
    if processes is not None and processes.deaths:
        print(f"mite: error: {'; '.join(processes.deaths)}", file=sys.stderr)
        return EXIT_RUNNER_DIED
    if interrupted:
        # The shell's convention: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
        return 128 + int(interrupted[0])
    if result["broken"]:
        print(f"mite: test failed: {'; '.join(result['broken'])}", file=sys.stderr)
        return 1
    return 0


def _processor_specs(opts):
    """`--message-processors` split into the native ones switched on by name and Python specs."""
    specs = [s for s in (opts.get("--message-processors") or "").split(",") if s]
    return {NATIVE[s] for s in specs if s in NATIVE}, [s for s in specs if s not in NATIVE]


def _scenario_test(opts):
    spec = opts["SCENARIO_SPEC"]
    config_manager = _create_config_manager(opts)
    return spec, _get_scenario_with_kwargs(spec, config_manager, _SENDER), config_manager


class _ScenarioSender:
    """The `sender` a scenario function may ask for: holds messages until the pipeline exists."""

    def __init__(self):
        self.sink = None
        self.pending = []

    def bind(self, sink):
        self.sink = sink
        for msg in self.pending:
            sink.send(msg)
        self.pending.clear()

    def send(self, msg):
        if self.sink is None:
            self.pending.append(msg)
        else:
            self.sink.send(msg)


_SENDER = _ScenarioSender()


def _journey(opts, run_once):
    spec = opts["JOURNEY_SPEC"]
    datapool = spec_import(opts["DATAPOOL_SPEC"]) if opts.get("DATAPOOL_SPEC") else None
    if run_once:
        if datapool is not None:
            datapool = SingleRunDataPoolWrapper(datapool)
        volume_model = oneshot_vm(stop_scenario=True)
    else:
        volume = int(opts["--volume"])

        def volume_model(start, end):
            return volume

    return spec, [(spec, datapool, volume_model)], _create_config_manager(opts)


def run(opts):
    """`mite scenario test`, `mite journey test|run` (from `mite.cli.commands`); returns the exit
    status. Errors it lets out get their line and status there."""
    if runner_count(opts.get("--runners")) > 1 and opts.get("--debugging"):
        raise UsageError("--debugging needs the terminal, so it runs with --runners=1 only")
    if opts.get("scenario"):
        name, scenarios, config = _scenario_test(opts)
    else:
        name, scenarios, config = _journey(opts, run_once=bool(opts.get("run")))
    return test_scenarios(name, opts, scenarios, config)
