"""`mite.scenario.ScenarioManager`: periods, required volume, removal, and sharing out work."""

import asyncio
from collections import Counter

import pytest

import mite.scenario as scenario_module
from mite.config import ConfigManager
from mite.datapools import DataPoolExhausted, DataPoolItem
from mite.scenario import Scenario, ScenarioManager, StopVolumeModel


class FakeClock:
    """Stands in for the `time` module inside mite.scenario, so periods need no waiting."""

    def __init__(self, now=1000.0):
        self.now = now

    def time(self):
        return self.now

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(scenario_module, "time", fake)
    return fake


class CallLog:
    """A volume model that records each (start, end) it is asked about."""

    def __init__(self, value=1, stop_at=None):
        self.value = value
        self.stop_at = stop_at
        self.calls = []

    def __call__(self, start, end):
        self.calls.append((start, end))
        if self.stop_at is not None and start >= self.stop_at:
            raise StopVolumeModel
        return self.value


def constant(n):
    return lambda start, end: n


class ListPool:
    """A datapool handing out its items once, then exhausted; records checkins and configs."""

    def __init__(self, items, none_first=0):
        self.items = list(items)
        self.none_first = none_first
        self.checked_in = []
        self.configs = []

    async def checkout(self, config):
        self.configs.append(config)
        if self.none_first:
            self.none_first -= 1
            return None
        if not self.items:
            raise DataPoolExhausted()
        n = self.items.pop(0)
        return DataPoolItem(n, (f"data{n}",))

    async def checkin(self, item_id):
        self.checked_in.append(item_id)


def get_work(manager, current=None, runner_current=0, num_runners=1, runner_max=None, hit_rate=0.0):
    return asyncio.run(
        manager.get_work(current or {}, runner_current, num_runners, runner_max, hit_rate)
    )


def test_scenarios_get_ids_from_one_and_are_kept_as_given():
    manager = ScenarioManager()
    models = [constant(n) for n in range(3)]
    for n, vm in enumerate(models):
        manager.add_scenario(f"mod:journey{n}", None, vm)
    assert list(manager._scenarios) == [1, 2, 3]
    for n, vm in enumerate(models):
        assert manager._scenarios[n + 1] == Scenario(f"mod:journey{n}", None, vm)
        assert tuple(manager._scenarios[n + 1]) == (f"mod:journey{n}", None, vm)


def test_volume_models_are_asked_once_per_period(clock):
    vm = CallLog(value=4)
    manager = ScenarioManager(period=1)
    manager.add_scenario("m:j", None, vm)
    assert manager.get_required_work() == {1: 4}
    clock.now += 0.5
    assert manager.get_required_work() == {1: 4}
    assert vm.calls == [(0, 1)]
    clock.now += 0.5
    manager.get_required_work()
    assert vm.calls == [(0, 1), (1, 2)]
    # A gap of several periods: the next one starts where the last ended, and ends on a whole second.
    clock.now += 2.7
    manager.get_required_work()
    assert vm.calls[-1] == (2, 4)


def test_required_is_the_volume_model_number_as_an_int(clock):
    manager = ScenarioManager()
    manager.add_scenario("m:a", None, constant(2.9))
    manager.add_scenario("m:b", None, constant(0))
    assert manager.get_required_work() == {1: 2, 2: 0}


def test_stop_volume_model_removes_only_that_scenario(clock):
    stopping = CallLog(value=3, stop_at=1)
    manager = ScenarioManager()
    manager.add_scenario("m:stops", None, stopping)
    manager.add_scenario("m:stays", None, constant(5))
    assert manager.get_required_work() == {1: 3, 2: 5}
    clock.now += 1
    assert manager.get_required_work() == {2: 5}
    assert list(manager._scenarios) == [2]
    assert manager.is_active()


def test_the_manager_is_inactive_once_every_scenario_is_removed(clock):
    manager = ScenarioManager()
    manager.add_scenario("m:j", None, CallLog(stop_at=0))
    assert manager.get_required_work() == {}
    assert not manager.is_active()


def test_start_delay_holds_the_first_period_back(clock):
    vm = CallLog(value=2)
    manager = ScenarioManager(start_delay=5)
    manager.add_scenario("m:j", None, vm)
    assert manager.is_active()
    assert manager.get_required_work() == {}
    clock.now += 5
    assert manager.get_required_work() == {}
    assert vm.calls == []
    clock.now += 0.1
    assert manager.get_required_work() == {1: 2}
    # Time restarts when the delay ends.
    assert vm.calls == [(0, 1)]


def test_start_delay_keeps_an_empty_manager_active(clock):
    manager = ScenarioManager(start_delay=1)
    assert manager.is_active()
    clock.now += 2
    manager.get_required_work()
    assert not manager.is_active()


def test_work_fills_what_is_missing_up_to_the_runners_share(clock):
    manager = ScenarioManager()
    for n in range(1, 6):
        manager.add_scenario(f"m:j{n}", None, constant(n))
    current = {2: 2, 3: 3, 5: 5}
    work, volume = get_work(manager, current=current, runner_current=10)
    assert Counter(work) == {(4, None, "m:j4", None): 4, (1, None, "m:j1", None): 1}
    assert volume == {4: 4, 1: 1}


def test_the_share_is_split_between_runners(clock):
    manager = ScenarioManager()
    manager.add_scenario("m:j", None, constant(10))
    work, volume = get_work(manager, num_runners=2)
    assert len(work) == 5 and volume == {1: 5}
    work, _ = get_work(manager, num_runners=2, runner_current=3)
    assert len(work) == 2
    work, _ = get_work(manager, num_runners=2, runner_current=7)
    assert work == []


def test_a_fractional_share_is_rounded_up_at_random(clock):
    manager = ScenarioManager()
    manager.add_scenario("m:j", None, constant(1))
    sizes = {len(get_work(manager, num_runners=2)[0]) for _ in range(200)}
    assert sizes == {0, 1}


def test_spawn_rate_is_starts_per_second_whatever_the_hit_rate(clock):
    # mite 2.11 divided the rate by the runners' request rate; here it is a token bucket holding
    # one period's worth, refilled by the clock, and the hit rate is ignored.
    manager = ScenarioManager(spawn_rate=4, period=1)
    manager.add_scenario("m:j", None, constant(50))
    assert len(get_work(manager, hit_rate=2.0)[0]) == 4
    assert get_work(manager, hit_rate=0.0)[0] == []
    clock.now += 0.5
    assert len(get_work(manager, hit_rate=1000.0)[0]) == 2
    clock.now += 10
    assert len(get_work(manager, current={1: 6})[0]) == 4  # the burst is one period's worth
    unlimited = ScenarioManager()
    unlimited.add_scenario("m:j", None, constant(50))
    assert len(get_work(unlimited, hit_rate=100.0)[0]) == 50


def test_spawn_tokens_are_shared_among_runners_and_unused_ones_return(clock):
    manager = ScenarioManager(spawn_rate=100, period=1)
    manager.add_scenario("m:j", None, constant(1000))
    # Four runners: one request takes at most a quarter of a full bucket.
    assert [len(get_work(manager, num_runners=4)[0]) for _ in range(5)] == [25, 25, 25, 25, 0]
    # The datapool has nothing for the first 5 of 10 checkouts: those 5 tokens go back.
    pooled = ScenarioManager(spawn_rate=10, period=1)
    pooled.add_scenario("m:j", ListPool(range(100), none_first=5), constant(10))
    assert len(get_work(pooled)[0]) == 5
    assert len(get_work(pooled, current={1: 5})[0]) == 5
    assert get_work(pooled, current={1: 5})[0] == []


def test_runner_max_journeys_caps_the_work(clock):
    # mite 2.11 compared with the share again, so the cap had no effect; here it is honoured.
    manager = ScenarioManager()
    manager.add_scenario("m:j", None, constant(10))
    assert len(get_work(manager, runner_max=4)[0]) == 4
    assert len(get_work(manager, runner_current=3, runner_max=5)[0]) == 2
    assert get_work(manager, runner_current=5, runner_max=5)[0] == []
    assert len(get_work(manager, runner_max=None)[0]) == 10


def test_datapool_items_become_work_and_receive_the_config(clock):
    config = ConfigManager()
    pool = ListPool([7, 8])
    manager = ScenarioManager(config_manager=config)
    manager.add_scenario("m:j", pool, constant(2))
    work, volume = get_work(manager)
    assert sorted(work) == [(1, 7, "m:j", ("data7",)), (1, 8, "m:j", ("data8",))]
    assert volume == {1: 2}
    assert pool.configs == [config, config]


def test_an_exhausted_datapool_removes_its_scenario(clock):
    pool = ListPool([1])
    manager = ScenarioManager()
    manager.add_scenario("m:pooled", pool, constant(3))
    manager.add_scenario("m:free", None, constant(1))
    work, volume = get_work(manager)
    assert sorted(work, key=str) == sorted(
        [(1, 1, "m:pooled", ("data1",)), (2, None, "m:free", None)], key=str
    )
    assert volume == {1: 1, 2: 1}
    assert list(manager._scenarios) == [2]
    assert manager.is_active()


def test_a_datapool_returning_none_skips_that_slot(clock):
    pool = ListPool([5], none_first=1)
    manager = ScenarioManager()
    manager.add_scenario("m:j", pool, constant(2))
    work, volume = get_work(manager)
    assert work == [(1, 5, "m:j", ("data5",))]
    assert volume == {1: 1}


def test_checkin_returns_items_to_the_scenarios_still_running(clock):
    kept, gone = ListPool([]), ListPool([])
    manager = ScenarioManager()
    manager.add_scenario("m:kept", kept, constant(1))
    manager.add_scenario("m:gone", gone, CallLog(stop_at=0))
    manager.get_required_work()
    asyncio.run(manager.checkin_data([(1, 10), (2, 20), (1, 11), (99, 1)]))
    assert kept.checked_in == [10, 11]
    assert gone.checked_in == []
