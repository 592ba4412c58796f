"""The controller: hands work to runners and reports required vs actual volume."""

import asyncio
import logging
import time
from itertools import count

from ._native import RunnerTracker, WorkTracker

logger = logging.getLogger(__name__)

# Seconds to wait for the expected runner processes (`--runners=N`) before arrival-rate work
# starts without those still missing.
EXPECTED_WAIT = 20.0

__all__ = ["Controller", "RunnerTracker", "WorkTracker"]


class Controller:
    def __init__(self, testname, scenario_manager, config_manager):
        self._testname = testname
        self._scenario_manager = scenario_manager
        self._runner_id_gen = count(1)
        self._work_tracker = WorkTracker()
        self._runner_tracker = RunnerTracker()
        self._config_manager = config_manager
        # Runners that said in `hello` that they take arrival-rate leases (a 2.11 runner cannot).
        self._lease_runners = set()
        # Runners that have asked for work at least once (the tracker knows only those).
        self._asked = set()
        self._warned_no_leases = False
        # Runners known to be starting (`--runners=N`): until that many took leases, the rate
        # is shared as if all of them had, so the first to ask does not take it all.
        self.expected_runners = 1
        self._lease_hellos = 0
        self._created = time.monotonic()
        # Datapool items each runner holds, `(scenario_id, data_id)`: checked back in for a
        # runner that leaves without finishing them (a runner process that died).
        self._held = {}

    def hello(self, capabilities=None):
        runner_id = next(self._runner_id_gen)
        if isinstance(capabilities, dict) and capabilities.get("arrival_rate"):
            self._lease_runners.add(runner_id)
            self._lease_hellos += 1
        return runner_id, self._testname, self._config_manager.get_changes_for_runner(runner_id)

    async def _required_work_for_runner(self, runner_id, max_work=None):
        runner_total = self._work_tracker.get_runner_total(runner_id)
        active = self._runner_tracker.get_active()
        current_work = self._work_tracker.get_total_work(active)
        hit_rate = self._runner_tracker.get_hit_rate()
        work, volume = await self._scenario_manager.get_work(
            current_work, runner_total, len(active), max_work, hit_rate
        )
        self._work_tracker.add_assumed(runner_id, volume)
        return work

    async def request_work(self, runner_id, current_work, completed_data_ids, max_work=None):
        self._asked.add(runner_id)
        self._work_tracker.set_actual(runner_id, current_work)
        self._runner_tracker.update(runner_id)
        await self._scenario_manager.checkin_data(completed_data_ids)
        work = await self._required_work_for_runner(runner_id, max_work)
        leases = await self._leases_for_runner(runner_id)
        if self._scenario_manager.uses_datapools():
            self._note_held(runner_id, completed_data_ids, work, leases)
        reply = (
            work,
            self._config_manager.get_changes_for_runner(runner_id),
            not self._scenario_manager.is_active(),
        )
        # The 4th field goes only to runners that asked for leases: a 2.11 runner unpacks 3.
        return reply if leases is None else (*reply, leases)

    def _note_held(self, runner_id, completed_data_ids, work, leases):
        held = self._held.setdefault(runner_id, {})
        for scenario_id, data_id in completed_data_ids:
            held.pop(_key(scenario_id, data_id), None)
        for scenario_id, data_id, *_ in work:
            if data_id is not None:
                held[_key(scenario_id, data_id)] = (scenario_id, data_id)
        for lease in leases or ():
            for data_id, _ in lease[-1] or ():
                held[_key(lease[0], data_id)] = (lease[0], data_id)

    async def _leases_for_runner(self, runner_id):
        manager = self._scenario_manager
        if not manager.has_arrival_rate():
            return None  # mite 2.11's 3-field reply: there is no arrival-rate work
        if runner_id not in self._lease_runners:
            if not self._warned_no_leases:
                self._warned_no_leases = True
                logger.warning(
                    "runner %s does not take arrival-rate scenarios (a mite 2.11 runner?); they run on the others only",
                    runner_id,
                )
            return None
        # A runner that said hello but has not asked yet takes its share too: runners started
        # together begin together instead of the first one taking the first window alone.
        if self._lease_hellos < self.expected_runners and time.monotonic() - self._created < EXPECTED_WAIT:
            # Runner processes of this command are still starting: the profiles' clocks start
            # once all are here, so the first ones do not run the start alone, late for the rest.
            return []
        active = set(self._runner_tracker.get_active())
        sharing = sum(1 for r in self._lease_runners if r in active or r not in self._asked)
        return await manager.get_leases(runner_id, sharing)

    def request_work_stopped(self, runner_id, current_work, completed_data_ids, max_work=None):
        """Bookkeeping for a work request answered with "stop" (no new work is planned)."""
        self._work_tracker.set_actual(runner_id, current_work)
        self._runner_tracker.update(runner_id)

    def report(self, sender):
        required = self._scenario_manager.get_required_work()
        active = self._runner_tracker.get_active()
        actual = self._work_tracker.get_total_work(active)
        sender(
            {
                "type": "controller_report",
                "time": time.time(),
                "test": self._testname,
                "required": required,
                "actual": dict(actual),
                "num_runners": len(active),
            }
        )

    def should_stop(self):
        return not self._scenario_manager.is_active() and self._runner_tracker.get_active_count() == 0

    def bye(self, runner_id):
        self._lease_runners.discard(runner_id)
        self._asked.discard(runner_id)
        held = self._held.pop(runner_id, None)
        if held:
            logger.info("checking in %d datapool items runner %s held when it left", len(held), runner_id)
            try:
                asyncio.get_running_loop().create_task(self._scenario_manager.checkin_data(list(held.values())))
            except RuntimeError:
                pass  # no loop (a synchronous caller): nothing runs on afterwards to use them
        self._scenario_manager.remove_runner(runner_id)
        self._runner_tracker.remove_runner(runner_id)
        self._work_tracker.remove_runner(runner_id)


def _key(scenario_id, data_id):
    """A held datapool item's key: a data id that crossed msgpack may be an unhashable list."""
    return scenario_id, repr(list(data_id) if isinstance(data_id, tuple) else data_id)
