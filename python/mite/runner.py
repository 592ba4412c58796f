"""The runner: asks the controller for work and runs journeys; the per-journey work is native."""

import asyncio
import functools
import logging

from ._native import RunnerCore
from .context import Context  # noqa: F401  (importable from here, as in mite 2.11)
from .utils import spec_import

logger = logging.getLogger(__name__)

# Seconds of leased arrival-rate work left when the runner asks for more.
LEASE_MARGIN = 1.0
# How soon a runner with no lease asks again while the controller has arrival-rate work.
LEASE_POLL = 0.1

__all__ = ["Runner", "RunnerControllerTransportExample", "spec_import_cached"]


@functools.cache
def spec_import_cached(journey_spec):
    """`spec_import`, remembered per spec (journeys are looked up by spec on every start)."""
    return spec_import(journey_spec)


class RunnerControllerTransportExample:  # pragma: no cover - documents the protocol only
    """What `Runner` expects of its transport: the three calls it makes to the controller."""

    async def hello(self):
        """Returns `(runner_id, test_name, config_list)`; config_list is `(key, value)` pairs.
        mite's own transports also tell the controller the runner takes arrival-rate leases."""

    async def request_work(self, runner_id, current_work, completed_data_ids, max_work):
        """Takes the runner's `{scenario_id: running}`, the `(scenario_id, data_id)` pairs
        finished since the last call and a limit (None for none). Returns
        `(work, config_list, stop)`: work is `(scenario_id, data_id, journey_spec, args)`
        tuples, config_list the config changes, stop whether to start no more work. A runner
        that took leases in `hello` gets a 4th field, its arrival-rate leases."""

    async def bye(self, runner_id):
        """Says the runner is leaving."""


async def _run_wrapped(fixtures, ctx, journey, args, debug, on_exit):
    """The slow path, for journeys with a fixture or under `--debugging`."""
    if getattr(journey, "_fixture", False):
        label = journey._fixture_label
        if label not in fixtures:
            fixtures[label] = await journey._fixture_func(ctx)
        setattr(ctx, journey._fixture_variable, fixtures[label])
    try:
        async with ctx.transaction("__root__"):
            await journey(ctx, *args)
    except Exception as e:
        if debug and not getattr(e, "handled", False):
            breakpoint()
            raise
    except SystemExit as e:
        # The post-mortem hook asked to exit. Ending the task normally and stopping the loop
        # from here leaves no task with an unretrieved exception behind.
        on_exit(e.code)


class Runner:
    def __init__(
        self,
        transport,
        msg_sender,
        loop_wait_min=0.01,
        loop_wait_max=0.5,
        max_work=None,
        loop=None,
        debug=False,
    ):
        self._transport = transport
        self._msg_sender = msg_sender
        self._loop_wait_min = loop_wait_min
        self._loop_wait_max = loop_wait_max
        self._max_work = max_work
        self._debug = debug
        self._fixture_registry = {}
        self._core = None
        self._stop = False
        self.exit_code = None

    def should_stop(self):
        return self._stop

    def running(self):
        return 0 if self._core is None else self._core.running()

    def stop(self):
        """Stops asking for new work; journeys already running finish, leased ones do not start."""
        self._stop = True
        if self._core is not None:
            self._core.set_stop(True)
            self._core.clear_arrivals()

    async def run(self):
        await self._run()

    async def _wait(self, loop, soon=False):
        """Until a journey finishes or the loop delay passes; returns finished data ids. `soon`:
        arrival-rate work exists but this runner holds no lease yet, so it asks again shortly."""
        core = self._core
        fut = loop.create_future()
        core.set_waiter(fut)
        wait = min(self._loop_wait_max, LEASE_POLL) if soon else self._loop_wait_max
        horizon = core.lease_horizon()
        if horizon is not None and not self._stop:
            # Ask for the next arrival-rate window while a second of the last one is left (and
            # not more often than LEASE_POLL when the controller has no further window).
            wait = max(min(LEASE_POLL, wait), min(wait, horizon - loop.time() - LEASE_MARGIN))
        handle = loop.call_later(wait, _wake, fut)
        try:
            await fut
        finally:
            handle.cancel()
        fatal = core.take_fatal()
        if fatal is not None:
            raise fatal
        return core.take_completed()

    async def _run(self):
        loop = asyncio.get_running_loop()
        config = {}
        runner_id, test_name, config_list = await self._transport.hello()
        config.update(config_list)
        fixtures = self._fixture_registry
        debug = self._debug

        def on_exit(code):
            self.exit_code = 1 if code is None else code
            loop.stop()

        def wrapper(ctx, journey, args):
            return _run_wrapped(fixtures, ctx, journey, args, debug, on_exit)

        self._core = core = RunnerCore(
            self._msg_sender, config, test_name, runner_id, loop.create_task, spec_import, wrapper, debug
        )
        if self._stop:
            core.set_stop(True)
        completed = []
        while not self._stop:
            reply = await self._transport.request_work(runner_id, core.current_work(), completed, self._max_work)
            work, config_list, stop = reply[:3]
            config.update(config_list)
            core.spawn(work)
            leasing = len(reply) > 3
            if leasing and reply[3]:
                # Arrival-rate journeys: the core's timer starts each when it is due, also after
                # a "stop" in this reply (what was leased runs on schedule; nothing more is asked).
                core.add_leases(reply[3])
            if stop:
                self._stop = True
                core.set_stop(True)
                break
            completed = await self._wait(loop, soon=leasing and core.lease_horizon() is None)
        while core.running() or core.arrivals_pending():
            reply = await self._transport.request_work(runner_id, core.current_work(), completed, 0)
            config.update(reply[1])
            completed = await self._wait(loop, soon=core.arrivals_pending())
        # Also drops the timer callback's reference to the core.
        core.clear_arrivals()
        completed = [*completed, *core.take_completed()]
        await self._transport.request_work(runner_id, core.current_work(), completed, 0)
        await self._transport.bye(runner_id)
        if core.dropped_journeys:
            logger.warning(
                "%d arrival-rate journeys were dropped: due while max_in_flight journeys ran, or with no datapool item",
                core.dropped_journeys,
            )


def _wake(fut):
    if not fut.done():
        fut.set_result(None)
