"""Arrival-rate scenarios in distributed mode: our controller leases the rate to our runners over
mite 2.11's controller protocol, the counts are exact, dropped journeys reach the exporter, and a
mite 2.11 runner beside ours keeps getting mite 2.11's replies (and no arrival-rate work)."""

import pytest
from distsupport import (
    Control,
    Pipeline,
    metric_total,
    needs_ref,
    of_type,
    wait_connected,
)

ARRIVAL = """
    import asyncio

    from mite_http import mite_http
    from mite.volume_model import ArrivalRate

    @mite_http
    async def journey(ctx):
        async with ctx.transaction("get"):
            await ctx.http.get({url!r})

    async def slow(ctx):
        await asyncio.sleep(1)

    def scenario():
        return [
            ["journeys:journey", None, ArrivalRate(duration=4, rate=50)],
            ["journeys:slow", None, ArrivalRate(duration=3, rate=10, max_in_flight=2)],
        ]
"""


def run(deployment, target, runners):
    pipeline = Pipeline(deployment)
    pipeline.wait_ready()
    deployment.write_module("journeys", ARRIVAL.format(url=target.url))
    control = Control(deployment, "journeys:scenario", pipeline.message, runners=runners, start=False)
    control.start_runners()
    for runner in control.runners:
        wait_connected(runner, pipeline.message)
    control.start_controller()
    control.wait_finished(timeout=90)
    body = pipeline.exported(target.served)
    return control, body, pipeline.collected()


def started(messages, journey):
    return [m for m in of_type(messages, "txn") if m["transaction"] == "__root__" and m["journey"] == journey]


@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_our_runners_share_the_rate_and_count_what_they_drop(deployment, target):
    control, body, messages = run(deployment, target, ("ours", "ours"))
    http = of_type(messages, "http_metrics")
    # 4 s at 50/s: 200 journeys, each runner's share leaving at most one over or under.
    assert 198 <= target.served == len(http) <= 200
    assert {m["runner_id"] for m in http} == {1, 2}
    # 30 slow journeys due, at most 2 running: the rest were dropped and counted, end to end.
    dropped = sum(m["count"] for m in of_type(messages, "dropped_journeys"))
    assert len(started(messages, "journeys:slow")) + dropped in (29, 30, 31)
    assert dropped >= 15
    assert metric_total(body, "mite_dropped_journeys_total", journey="journeys:slow") == dropped


@needs_ref
@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_a_mite_2_11_runner_beside_ours_gets_no_arrival_rate_work(deployment, target):
    control, body, messages = run(deployment, target, ("ref", "ours"))
    http = of_type(messages, "http_metrics")
    # Our runner alone takes the leases: the whole count, from one runner; the 2.11 runner ran
    # to the end on 3-field replies (every runner exited 0).
    assert target.served == len(http) == 200
    assert len({m["runner_id"] for m in http}) == 1
    assert "does not take arrival-rate scenarios" in control.controller.describe()


@needs_ref
@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_with_only_a_mite_2_11_runner_the_scenario_is_given_up_and_the_test_ends(deployment, target):
    # No runner takes leases: the controller says so and removes the scenario after 20 s, so the
    # runner is told to stop and everything exits 0 (before, the test never ended).
    control, body, messages = run(deployment, target, ("ref",))
    assert target.served == 0
    log = control.controller.describe()
    assert "no runner took arrival-rate scenario 1 (journeys:journey) within 20 s" in log
