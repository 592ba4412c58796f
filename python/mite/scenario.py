"""The scenario manager: volume models decide how many journeys each scenario needs."""

import logging
import math
import time
from collections import Counter, namedtuple
from itertools import count

from ._errors import StopVolumeModel
from ._native import ArrivalPlan, SpawnLimiter, plan_work
from .datapools import DataPoolEmptied, DataPoolExhausted
from .volume_model import ArrivalModel

logger = logging.getLogger(__name__)

Scenario = namedtuple("Scenario", "journey_spec datapool volumemodel".split())

__all__ = ["Scenario", "ScenarioManager", "StopVolumeModel", "ScenarioError"]

# How far ahead (seconds) an arrival-rate scenario is leased to a runner: more than a runner's
# wait between work requests, so its timer never runs dry between two answers.
LEASE_LOOKAHEAD = 2.0
# An arrival-rate scenario ends this long after its profile, so that every runner's last
# journeys have started before the controller answers "stop".
ARRIVAL_END_GRACE = 0.5
# A profile's first journey is due this long after the first runner asked for it, so that the
# other runners (which ask every 0.1 s while they hold no lease) have theirs by then.
ARRIVAL_START_DELAY = 0.25
# An arrival-rate scenario that no runner took this long after the first work request is
# removed (only mite 2.11 runners are connected, or ours never asked): the test can end.
NO_LEASE_WAIT = 20.0


class ScenarioError(Exception):
    """A scenario's own code (volume model or datapool) failed; the message names which."""


def _volume_dicts_remove_a_from_b(a, b):
    diff = dict(b)
    for scenario_id, current_num in a.items():
        if scenario_id in diff:
            diff[scenario_id] -= current_num
            if diff[scenario_id] < 1:
                del diff[scenario_id]
    return diff


class ScenarioManager:
    def __init__(self, start_delay=0, period=1, spawn_rate=None, config_manager=None):
        self._period = period
        self._scenario_id_gen = count(1)
        self._in_start = start_delay > 0
        self._start_delay = start_delay
        self._start_time = time.time()
        self._current_period_end = 0
        self._spawn_rate = spawn_rate
        # `--spawn-rate` new journeys per second across all runners, at most one period's worth
        # at once; the runners' request rate (`hit_rate`) no longer plays a part.
        self._spawn_limiter = None
        if spawn_rate is not None:
            rate = float(spawn_rate)
            self._spawn_limiter = SpawnLimiter(rate, rate * max(float(period), 0.0))
        self._required = {}
        self._scenarios = {}
        # Arrival-rate scenarios: their plans, which lease each runner its windows, and when
        # (monotonic) each plan's clock started; when the first runner asked for work.
        self._plans = {}
        self._plan_started = {}
        self._first_request = None
        self._config_manager = config_manager

    def _now(self):
        return time.time() - self._start_time

    def add_scenario(self, journey_spec, datapool, volumemodel):
        scenario_id = next(self._scenario_id_gen)
        self._scenarios[scenario_id] = Scenario(journey_spec, datapool, volumemodel)
        if isinstance(volumemodel, ArrivalModel):
            self._plans[scenario_id] = ArrivalPlan(list(volumemodel.segments), LEASE_LOOKAHEAD)
        logger.info(
            "Added scenario id=%d journey_spec=%r datapool=%r volumemodel=%r",
            scenario_id,
            journey_spec,
            datapool,
            volumemodel,
        )
        return scenario_id

    def _remove(self, scenario_id, why):
        logger.info("Removed scenario %d because %s", scenario_id, why)
        del self._scenarios[scenario_id]
        self._plans.pop(scenario_id, None)
        if not self._scenarios:
            logger.info("All scenarios have been removed from scenario tracker")

    def _update_required_and_period(self, start_of_period, end_of_period):
        required = {}
        for scenario_id, scenario in list(self._scenarios.items()):
            if scenario_id in self._plans:
                continue
            try:
                number = int(scenario.volumemodel(start_of_period, end_of_period))
            except StopVolumeModel:
                self._remove(scenario_id, "volume model raised StopVolumeModel")
            except Exception as e:
                raise ScenarioError(
                    f"the volume model of scenario {scenario_id} ({scenario.journey_spec}) "
                    f"raised {type(e).__name__}: {e}"
                ) from e
            else:
                required[scenario_id] = number
        self._current_period_end = end_of_period
        self._required = required

    def get_required_work(self):
        if self._in_start:
            if self._now() <= self._start_delay:
                return self._required
            self._in_start = False
            self._start_time = time.time()
        now = self._now()
        if now >= self._current_period_end:
            self._update_required_and_period(self._current_period_end, int(now + self._period))
        if self._plans:
            self._expire_plans()
        return self._required

    def _expire_plans(self):
        """Removes arrival-rate scenarios whose profile has ended, and those no runner took
        within NO_LEASE_WAIT of the first work request (only mite 2.11 runners connected)."""
        now = time.monotonic()
        for scenario_id in list(self._plans):
            started = self._plan_started.get(scenario_id)
            if started is not None:
                if self._plans[scenario_id].over(now - started - ARRIVAL_END_GRACE):
                    self._remove(scenario_id, "its arrival-rate profile ended")
            elif self._first_request is not None and now - self._first_request > NO_LEASE_WAIT:
                logger.error(
                    "no runner took arrival-rate scenario %d (%s) within %.0f s: a mite 2.11 runner cannot run it",
                    scenario_id,
                    self._scenarios[scenario_id].journey_spec,
                    NO_LEASE_WAIT,
                )
                self._remove(scenario_id, "no runner takes arrival-rate work")

    async def _checkout(self, scenario_id, scenario, emptied_ok=False):
        try:
            return await scenario.datapool.checkout(config=self._config_manager)
        except DataPoolExhausted:
            raise
        except DataPoolEmptied:
            if emptied_ok:
                return None
            raise ScenarioError(
                f"the datapool of scenario {scenario_id} ({scenario.journey_spec}) "
                "raised Exception: Recyclable iterable datapool was emptied!"
            ) from None
        except Exception as e:
            raise ScenarioError(
                f"the datapool of scenario {scenario_id} ({scenario.journey_spec}) "
                f"raised {type(e).__name__}: {e}"
            ) from e

    async def get_work(self, current_work, num_runner_current_work, num_runners, runner_self_limit, hit_rate):
        # `hit_rate` is kept for mite 2.11's signature; the spawn limiter does not use it.
        if self._first_request is None:
            self._first_request = time.monotonic()
        required = self.get_required_work()
        scenario_ids, limit = plan_work(
            required, dict(current_work), num_runner_current_work, num_runners, runner_self_limit
        )
        limiter = self._spawn_limiter
        if limiter is not None:
            limit = limiter.grant(min(limit, len(scenario_ids)), num_runners, time.monotonic())
        try:
            work, volume = await self._build_work(scenario_ids, limit)
        except BaseException:
            if limiter is not None:
                limiter.refund(limit)
            raise
        if limiter is not None and len(work) < limit:
            limiter.refund(limit - len(work))
        return work, volume

    async def _build_work(self, scenario_ids, limit):
        scenarios = self._scenarios
        if all(s.datapool is None for s in scenarios.values()):
            # Nothing to await: build the work list in one pass (this runs once per journey).
            specs = {sid: s.journey_spec for sid, s in scenarios.items()}
            work = [(sid, None, specs[sid], None) for sid in scenario_ids[:limit] if sid in specs]
            return work, dict(Counter(item[0] for item in work))
        work = []
        volume = {}
        for scenario_id in scenario_ids:
            if len(work) >= limit:
                break
            scenario = scenarios.get(scenario_id)
            if scenario is None:
                continue
            if scenario.datapool is None:
                work.append((scenario_id, None, scenario.journey_spec, None))
            else:
                try:
                    dpi = await self._checkout(scenario_id, scenario)
                except DataPoolExhausted:
                    self._remove(scenario_id, "data pool exhausted")
                    continue
                if dpi is None:
                    continue
                work.append((scenario_id, dpi.id, scenario.journey_spec, dpi.data))
            volume[scenario_id] = volume.get(scenario_id, 0) + 1
        return work, volume

    def uses_datapools(self):
        return any(s.datapool is not None for s in self._scenarios.values())

    def has_arrival_rate(self):
        return bool(self._plans)

    async def get_leases(self, runner_id, num_runners):
        """The next window of each arrival-rate scenario for `runner_id`, one of
        `num_runners` sharing them: `(scenario_id, journey_spec, segments, from, to, share,
        carry_in, count, elapsed, cap, data)` tuples (see `mite._native.ArrivalPlan`)."""
        if not self._plans or self._in_start:
            return []
        now = time.monotonic()
        leases = []
        for scenario_id, plan in list(self._plans.items()):
            # A profile's clock starts when the first runner that can run it asks: journeys are
            # not due before a runner is there (runner processes take a second or two to start).
            elapsed = now - self._plan_started.setdefault(scenario_id, now + ARRIVAL_START_DELAY)
            if plan.over(elapsed - ARRIVAL_END_GRACE):
                self._remove(scenario_id, "its arrival-rate profile ended")
                continue
            lease = plan.lease(runner_id, elapsed, max(num_runners, 1))
            if lease is None:
                continue
            scenario = self._scenarios[scenario_id]
            count = lease[4]
            data = None
            if scenario.datapool is not None:
                data = await self._checkout_many(scenario_id, scenario, count)
            cap = scenario.volumemodel.max_in_flight
            if cap is not None:
                cap = max(1, math.ceil(cap / max(num_runners, 1)))
            leases.append((scenario_id, scenario.journey_spec, plan.segments, *lease, elapsed, cap, data))
        return leases

    async def _checkout_many(self, scenario_id, scenario, count):
        """Up to `count` `(data_id, data)` items; journeys left without one are dropped."""
        data = []
        for _ in range(count):
            try:
                dpi = await self._checkout(scenario_id, scenario, emptied_ok=True)
            except DataPoolExhausted:
                self._remove(scenario_id, "data pool exhausted")
                break
            if dpi is None:
                break
            data.append((dpi.id, dpi.data))
        return data

    def remove_runner(self, runner_id):
        for plan in self._plans.values():
            plan.remove_runner(runner_id)

    def is_active(self):
        return self._in_start or bool(self._scenarios)

    async def checkin_data(self, ids):
        for scenario_id, scenario_data_id in ids:
            scenario = self._scenarios.get(scenario_id)
            if scenario is not None and scenario.datapool is not None:
                await scenario.datapool.checkin(scenario_data_id)


