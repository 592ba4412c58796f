"""The pacing helpers and test_context exported by `mite` (a fake clock, so nothing really sleeps)."""

import asyncio
from types import SimpleNamespace

import pytest

import mite
from mite.exceptions import InfluxConfigError, MiteError


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand; `sleeps` records what the helpers asked mite.utils.sleep for."""
    state = SimpleNamespace(now=1000.0, sleeps=[])

    async def fake_sleep(delay, always=False, **kwargs):
        state.sleeps.append(delay)
        state.now += delay

    monkeypatch.setattr(mite, "time", SimpleNamespace(time=lambda: state.now))
    monkeypatch.setattr(mite.utils, "sleep", fake_sleep)
    return state


def run_body(manager, clock, body_seconds, raises=None):
    async def go():
        async with manager:
            clock.now += body_seconds
            if raises is not None:
                raise raises

    asyncio.run(go())


def test_fixed_separation_sleeps_the_rest_of_the_interval(clock):
    run_body(mite.ensure_fixed_separation(5), clock, 2)
    assert clock.sleeps == [3]


def test_fixed_separation_does_not_sleep_when_the_body_took_longer(clock):
    run_body(mite.ensure_fixed_separation(5), clock, 5)
    run_body(mite.ensure_fixed_separation(5), clock, 7)
    assert clock.sleeps == []


def test_separation_still_applies_when_the_body_raises(clock):
    with pytest.raises(KeyError):
        run_body(mite.ensure_fixed_separation(4), clock, 1, raises=KeyError("k"))
    assert clock.sleeps == [3]


def test_a_manager_can_be_reused_and_times_each_use(clock):
    manager = mite.ensure_fixed_separation(10)
    run_body(manager, clock, 4)
    run_body(manager, clock, 9)
    assert clock.sleeps == [6, 1]


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(0.0, 7.5), (0.5, 10.0), (1.0, 12.5)],
)
def test_average_separation_spreads_a_quarter_either_side_by_default(
    clock, monkeypatch, draw, expected
):
    monkeypatch.setattr(mite.random, "random", lambda: draw)
    run_body(mite.ensure_average_separation(10), clock, 0)
    assert clock.sleeps == [pytest.approx(expected)]


def test_average_separation_with_explicit_spread(clock, monkeypatch):
    monkeypatch.setattr(mite.random, "random", lambda: 0.0)
    run_body(mite.ensure_average_separation(10, plus_minus=4), clock, 1)
    assert clock.sleeps == [pytest.approx(5.0)]


def test_separation_from_callable_asks_the_callable_on_exit(clock):
    separations = iter([3, 8])
    manager = mite.ensure_separation_from_callable(lambda: next(separations))
    run_body(manager, clock, 1)
    run_body(manager, clock, 1)
    assert clock.sleeps == [2, 7]


def test_mite_error_keeps_its_fields():
    err = MiteError("bad response", status=500, url="http://x")
    assert str(err) == "bad response"
    assert err.fields == {"status": 500, "url": "http://x"}
    assert mite.MiteError is MiteError
    assert isinstance(InfluxConfigError("no host", host=None), MiteError)
    assert InfluxConfigError("no host", host=None).fields == {"host": None}


def test_version_is_a_string():
    assert isinstance(mite.__version__, str) and mite.__version__


def test_test_context_holds_the_given_config():
    ctx = mite.test_context(test_msg="hello", users=3)
    assert ctx.config.get("test_msg") == "hello"
    assert ctx.config.get("users") == 3
    assert ctx.config.get("absent", "d") == "d"
