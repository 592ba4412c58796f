"""Exact percentiles in distributed mode: our stats (MITE_STATS_HDR=1) ship HDR snapshots beside
mite 2.11's histogram, our exporter merges them from two stats processes fed by two runners, and
its `_quantile` gauges match the collector's own http_metrics within the histogram's 0.1%. Mixed
deployments keep working: mite 2.11.0's exporter fed by our stats, ours fed by 2.11.0's."""

import math

import pytest
from distsupport import (
    Control,
    Pipeline,
    beyond_reference,
    metric_samples,
    metric_total,
    needs_ref,
    of_type,
    stop_for_totals,
    wait_connected,
    write_scenario,
)

HDR_ON = {"MITE_STATS_HDR": "1"}
TXN = "__root__ :: get"
QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def run(deployment, target, stats_impl="ours", exporter="ours", stats_processes=1, env=None):
    """A whole deployment (two runners of ours) with `stats_processes` stats on one duplicator
    output (it hands each frame to one of them); returns the pipeline, /metrics and messages."""
    pipeline = Pipeline(deployment, stats=stats_impl, exporter=exporter, start=False)
    pipeline.start_exporter()
    stats = [
        deployment.start("stats", f"--stats-in-socket={pipeline.to_stats}",
                         f"--stats-out-socket={pipeline.stats_out}", impl=stats_impl, env=env)
        for _ in range(stats_processes)
    ]
    pipeline.stats = stats[0]
    pipeline.start_collector()
    pipeline.start_duplicator()
    pipeline.wait_ready()
    for s in stats:
        wait_connected(s, pipeline.to_stats)
    spec = write_scenario(deployment, target.url, duration=3, concurrency=6, pause=0.01)
    control = Control(deployment, spec, pipeline.message, start=False)
    control.start_runners()
    for runner in control.runners:
        wait_connected(runner, pipeline.message)
    control.start_controller()
    control.wait_finished(timeout=60)
    deployment.assert_alive(*pipeline.components, *stats)
    body = pipeline.exported(target.served)
    messages = pipeline.collected()
    return pipeline, stats, body, messages


def nearest_rank(sorted_values, q):
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


@beyond_reference("HDR snapshots and quantile gauges")
@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_two_runners_two_stats_give_exact_percentiles(deployment, target):
    pipeline, stats, body, messages = run(deployment, target, stats_processes=2, env=HDR_ON)
    http = of_type(messages, "http_metrics")
    assert len(http) == target.served > 100
    assert {m["runner_id"] for m in http} == {1, 2}
    times = sorted(m["total_time"] for m in http if m["transaction"] == TXN)
    assert len(times) == len(http)
    samples = {
        labels["quantile"]: v
        for labels, v in metric_samples(body, "mite_http_response_time_seconds_quantile")
        if labels.get("transaction") == TXN
    }
    assert sorted(samples) == sorted(str(q) for q in QUANTILES), body
    for q in QUANTILES:
        exact = nearest_rank(times, q)
        # HDR with 3 significant digits: the highest value equivalent to the exact one, and the
        # exported text rounds to the nanosecond.
        assert exact - 1e-9 <= samples[str(q)] <= exact * 1.001 + 1e-9, (q, samples[str(q)], exact)
    # The 2.11 histogram is still there, unchanged beside them.
    assert metric_total(body, "mite_http_response_time_seconds_count", transaction=TXN) == len(
        times
    )
    # Both stats processes took part (each counted frames), and the exporter merged their dumps.
    received = [stop_for_totals(s)["received"] for s in stats]
    assert all(n > 0 for n in received), received
    exporter = stop_for_totals(pipeline.exporter)
    assert exporter.get("malformed", 0) == 0, exporter


@needs_ref
@beyond_reference("our stats' HDR snapshots")
@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_a_2_11_exporter_fed_by_our_stats_with_snapshots(deployment, target):
    pipeline, _, body, messages = run(deployment, target, exporter="ref", env=HDR_ON)
    deployment.assert_alive(pipeline.exporter)
    http = of_type(messages, "http_metrics")
    assert metric_total(body, "mite_http_response_total") == len(http) == target.served
    assert metric_total(body, "mite_http_response_time_seconds_count", transaction=TXN) == len(
        http
    )
    assert "_quantile" not in body, "mite 2.11.0's exporter knows nothing of snapshots"


@needs_ref
@pytest.mark.slow
@pytest.mark.dist_timeout(150)
def test_our_exporter_fed_by_2_11_stats(deployment, target):
    pipeline, _, body, messages = run(deployment, target, stats_impl="ref")
    deployment.assert_alive(pipeline.exporter)
    http = of_type(messages, "http_metrics")
    assert metric_total(body, "mite_http_response_time_seconds_count", transaction=TXN) > 0
    assert metric_total(body, "mite_http_response_total") <= len(http)
    assert "_quantile" not in body, "no snapshots, no quantile gauges"
