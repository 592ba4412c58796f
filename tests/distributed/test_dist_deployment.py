"""Whole deployments on loopback: controller, two runners, duplicator, stats, collector and
prometheus_exporter, running an @mite_http journey against a loopback target until the volume
model stops; then what the target served, what the collector wrote and what the exporter shows
must agree exactly. The interop tests mix components of ours and of mite 2.11.0."""

import pytest
from distsupport import (
    Control,
    Pipeline,
    beyond_reference,
    metric_samples,
    metric_total,
    needs_ref,
    of_type,
    reference_may_fail,
    totals,
    wait_connected,
    wait_for,
    wait_started,
    write_scenario,
)

SPEC = "journeys:scenario"
JOURNEY = "journeys:journey"


def run_deployment(deployment, target, pipeline_impls=None, controller="ours",
                   runners=("ours", "ours"), duration=3):
    pipeline = Pipeline(deployment, **(pipeline_impls or {}))
    pipeline.wait_ready()
    spec = write_scenario(deployment, target.url, duration=duration, concurrency=4)
    control = Control(deployment, spec, pipeline.message, controller=controller, runners=runners,
                      start=False)
    # The runners start first (any order must work), so that one slow to start (the reference
    # imports for a second or two) does not miss a scenario whose clock starts with the controller.
    control.start_runners()
    for runner in control.runners:
        wait_connected(runner, pipeline.message)
    control.start_controller()
    control.wait_finished(timeout=60)
    deployment.assert_alive(*pipeline.components)
    body = pipeline.exported(target.served)
    messages = pipeline.collected()
    return pipeline, control, body, messages


def assert_sensible(target, body, messages, runners=2):
    """What every finished deployment shows, whoever's components ran it."""
    http = of_type(messages, "http_metrics")
    assert target.served > 0, "no request in the whole test"
    # Every request the target answered was reported, once, by a runner, and the collector has it.
    assert len(http) == target.served
    for m in http:
        assert m["test"] == SPEC and m["journey"] == JOURNEY
        assert m["transaction"] == "__root__ :: get"
        assert m["method"] == b"GET" and m["response_code"] == 200
    assert {m["runner_id"] for m in http} == set(range(1, runners + 1)), "every runner worked"
    txns = [m for m in of_type(messages, "txn") if m["transaction"] == "__root__ :: get"]
    assert len(txns) == target.served
    reports = of_type(messages, "controller_report")
    assert reports, "the controller reports (about once a second, and once at the end)"
    for r in reports:
        assert r["test"] == SPEC
        assert set(r) >= {"type", "time", "test", "required", "actual", "num_runners"}
    assert max(r["num_runners"] for r in reports) == runners
    assert any(r["required"].get(1) == 4 for r in reports)
    # The exporter saw the same requests, labelled as mite 2.11.0 labels them.
    samples = metric_samples(body, "mite_http_response_total")
    assert samples, body
    for labels, _ in samples:
        assert labels == {"test": SPEC, "journey": JOURNEY, "transaction": "__root__ :: get",
                          "method": "b'GET'", "response_code": "200"}
    assert metric_samples(body, "mite_runner_count")
    assert all(labels == {"test": SPEC} for labels, _ in metric_samples(body, "mite_runner_count"))
    assert {labels["scenario_id"] for labels, _ in metric_samples(body, "mite_required_count")} \
        == {"1"}
    count = metric_total(body, "mite_http_response_time_seconds_count",
                         transaction="__root__ :: get")
    assert count == metric_total(body, "mite_http_response_total")


@pytest.mark.slow
@pytest.mark.dist_timeout(120)
@reference_may_fail("stats only dumps when a message arrives, so the end of the test is lost")
def test_nothing_lost(deployment, target):
    """exporter's mite_http_response_total == http_metrics frames collected == requests served."""
    pipeline, control, body, messages = run_deployment(deployment, target)
    exported = metric_total(body, "mite_http_response_total")
    http = of_type(messages, "http_metrics")
    assert exported == len(http) == target.served, (exported, len(http), target.served)
    assert metric_total(body, "mite_transaction_total", transaction="__root__ :: get",
                        had_error="False") == target.served
    # The gauge comes to show the controller's last report: that report may still be on its way
    # through stats when the response counts are complete, so wait for it.
    last = max(of_type(messages, "controller_report"), key=lambda r: r["time"])

    def runner_count_is_last():
        latest = pipeline.body()
        ok = latest is not None and metric_total(latest, "mite_runner_count", test=SPEC) \
            == last["num_runners"]
        return latest if ok else None

    body = wait_for(runner_count_is_last, 60, f"mite_runner_count {last['num_runners']}",
                    [pipeline.exporter, pipeline.stats])
    assert_sensible(target, body, messages)


@pytest.mark.slow
@pytest.mark.dist_timeout(120)
@beyond_reference("counting frames and logging the totals at shutdown")
def test_every_component_logs_its_totals(deployment, target):
    """Each component's `totals:` line at shutdown, and the counts add up: what the controller
    and the runners say they sent is what the duplicator received and the collector wrote."""
    pipeline, control, body, messages = run_deployment(deployment, target)
    for c in pipeline.components:
        c.stop()
    logs = {c.label: c.stderr() for c in deployment.components}
    counts = {}
    for label, text in logs.items():
        counts[label] = totals(text)
        assert counts[label] is not None, f"{label} logged no `totals:` line:\n{text[-3000:]}"
    senders = [control.controller.label] + [r.label for r in control.runners]
    for label in senders:
        assert "sent" in counts[label], (label, counts[label])
    sent = sum(counts[label]["sent"] for label in senders)
    assert len(messages) == sent, "the collector wrote every frame the controller and runners sent"
    assert counts["duplicator"]["received"] == sent + pipeline.inject.sent, counts["duplicator"]
    collector = counts["collector"]
    assert collector["received"] == collector["written"] == len(pipeline.all_collected), collector
    assert collector.get("dropped", 0) == 0, collector
    assert counts["stats"]["received"] >= sent, counts["stats"]
    assert counts["stats"].get("dropped", 0) == 0, counts["stats"]
    assert counts["prometheus_exporter"]["received"] > 0, counts["prometheus_exporter"]


INTEROP = {
    "ours-control-into-ref-pipeline": dict(
        pipeline_impls=dict(duplicator="ref", stats="ref", collector="ref", exporter="ref"),
        controller="ours", runners=("ours", "ours")),
    "ref-control-into-ours-pipeline": dict(
        pipeline_impls=dict(duplicator="ours", stats="ours", collector="ours", exporter="ours"),
        controller="ref", runners=("ref", "ref")),
    "ours-controller-with-a-ref-runner": dict(controller="ours", runners=("ref", "ours")),
    "ref-controller-with-our-runners": dict(
        pipeline_impls=dict(duplicator="ref", stats="ours", collector="ours", exporter="ref"),
        controller="ref", runners=("ours", "ours")),
}


@needs_ref
@pytest.mark.slow
@pytest.mark.dist_timeout(120)
@pytest.mark.parametrize("combo", list(INTEROP))
def test_interop(deployment, target, combo):
    impls = INTEROP[combo]
    pipeline, control, body, messages = run_deployment(deployment, target, **impls)
    assert_sensible(target, body, messages)
    exported = metric_total(body, "mite_http_response_total")
    if pipeline.stats.is_ref:
        # mite 2.11.0's stats loses what came after its last dump.
        assert 0 < exported <= target.served
    else:
        assert exported == target.served


@pytest.mark.slow
@pytest.mark.dist_timeout(120)
def test_runners_and_stats_started_first(deployment, target):
    """Any start order works: runners before the controller, stats and collector before the
    duplicator they connect to, the exporter last."""
    pipeline = Pipeline(deployment, start=False)
    spec = write_scenario(deployment, target.url, duration=3, concurrency=4)
    control = Control(deployment, spec, pipeline.message, start=False)
    control.start_runners()
    pipeline.start_stats()
    pipeline.start_collector()
    for c in (*control.runners, pipeline.stats, pipeline.collector):
        wait_started(c)
    pipeline.start_duplicator()
    for runner in control.runners:
        wait_connected(runner, pipeline.message)
    control.start_controller()
    wait_connected(pipeline.stats, pipeline.to_stats)
    pipeline.start_exporter()
    control.wait_finished(timeout=60)
    body = pipeline.exported(target.served)
    messages = pipeline.collected()
    # Whoever came first, nothing is lost: the duplicator holds frames for outputs nobody has
    # taken yet, and stats holds its dumps until the exporter is there.
    http = of_type(messages, "http_metrics")
    assert target.served > 0
    assert len(http) == target.served
    assert metric_total(body, "mite_http_response_total") == target.served
    assert of_type(messages, "controller_report")
