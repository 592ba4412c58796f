"""The compose deployment for real: runners load the demo target, Prometheus scrapes the exporter.

One deployment runs through the module's tests in order (traffic, dashboards, scaling, bad input,
then `make clean`). Grafana is not started: its image cannot be had without a registry here.
"""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from deployfiles import panel_queries

from conftest import MITE_IMAGE, PROMETHEUS_IMAGE, ROOT, compose_env, run, wait_for

PROJECT = "mite-deploytest"
SERVICES = "target duplicator stats collector prometheus_exporter controller runner prometheus"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """`make` and compose calls against the suite's compose project, and Prometheus queries."""

    def __init__(self, tmp_path):
        self.prometheus_port = _free_port()
        self.env = compose_env(
            COMPOSE_PROJECT_NAME=PROJECT, MITE_IMAGE=MITE_IMAGE, PROMETHEUS_IMAGE=PROMETHEUS_IMAGE,
            PROMETHEUS_PORT=self.prometheus_port, EXPORTER_PORT=_free_port(), GRAFANA_PORT=_free_port(),
            COMPOSE="docker-compose",
        )
        self.tmp_path = tmp_path

    def make(self, *args, timeout=300, **env):
        return run(["make", "-s", "--no-print-directory", *args], timeout=timeout,
                   env={**self.env, **{k: str(v) for k, v in env.items()}})

    def compose(self, *args, timeout=300, **env):
        return run(["docker-compose", *args], timeout=timeout,
                   env={**self.env, **{k: str(v) for k, v in env.items()}})

    def query(self, expr, at=None):
        """The result vector of an instant PromQL query."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def value(self, expr, at=None):
        result = self.query(expr, at)
        return float(result[0]["value"][1]) if result else None

    def logs(self, service):
        out = self.compose("logs", "--no-color", service)
        return out.stdout + out.stderr

    def containers(self, kind):
        """Ids of the project's containers, networks or volumes left on the machine."""
        label = f"label=com.docker.compose.project={PROJECT}"
        cmd = {"container": ["docker", "ps", "-aq"], "network": ["docker", "network", "ls", "-q"],
               "volume": ["docker", "volume", "ls", "-q"]}[kind]
        return run([*cmd, "--filter", label]).stdout.split()


@pytest.fixture(scope="module")
def deployment(mite_image, offline_images, tmp_path_factory):
    d = Deployment(tmp_path_factory.mktemp("compose"))
    d.make("clean")  # a deployment left by an interrupted run
    d.make("up", RUNNERS=2, SERVICES=SERVICES)
    try:
        yield d
    finally:
        if d.containers("container") or d.containers("volume") or d.containers("network"):
            d.make("clean", timeout=180)


def test_up_starts_every_service_with_two_runners(deployment):
    status = deployment.make("status").stdout
    for service in SERVICES.split():
        assert f"{service}#1 " in status, status
    assert "runner#2 " in status and "runner#3 " not in status, status
    wait_for(lambda: deployment.value("sum(mite_runner_count)") == 2, 120, "2 runners in Prometheus")


def test_the_runs_series_reach_prometheus(deployment):
    wait_for(lambda: deployment.value('sum(mite_http_response_total{method="b\'GET\'"})'), 120,
             "HTTP responses in Prometheus")
    expected = {
        'mite_transaction_total{test="demo:scenario",journey="demo:shopper",had_error="False"}',
        'mite_transaction_total{transaction="__root__"}',
        'mite_http_response_total{test="demo:scenario",method="b\'GET\'",response_code="200"}',
        'mite_http_response_time_seconds_bucket{transaction="__root__ :: product",le="+Inf"}',
        "mite_http_response_time_seconds_count",
        'mite_required_count{test="demo:scenario"}',
        'mite_actual_count{test="demo:scenario"}',
        'mite_runner_count{test="demo:scenario"}',
        'up{job="mite"} == 1',
    }
    for expr in expected:
        assert deployment.query(expr), expr
    # The demo target fails about one checkout in twenty: the errors are counted too.
    wait_for(lambda: deployment.query('mite_transaction_total{had_error="True"}'), 120, "failed transactions")
    wait_for(lambda: deployment.query("mite_journey_error_total"), 60, "journey errors")
    wait_for(lambda: deployment.value("sum(mite_required_count)") == 10, 60, "10 journeys required")


@pytest.mark.parametrize("dashboard,panel,expr", panel_queries(), ids=lambda v: str(v)[:60])
def test_every_dashboard_query_returns_data(deployment, dashboard, panel, expr):
    wait_for(lambda: deployment.query(expr), 90, f"data for {dashboard} / {panel}: {expr}")


def test_runners_scale_to_three(deployment):
    deployment.make("scale", RUNNERS=3)
    wait_for(lambda: deployment.value("sum(mite_runner_count)") == 3, 120, "3 runners in Prometheus")
    assert "runner#3 " in deployment.make("status").stdout


def test_exporter_restarted_mid_run_loses_nothing_collected(deployment):
    before = time.time()
    total_before = deployment.value("sum(mite_http_response_total)", at=before)
    assert total_before
    collected = _collected_bytes(deployment)
    deployment.compose("stop", "prometheus_exporter")
    # While it is away, `make status` says so in one line.
    down = wait_for(lambda: [line for line in deployment.make("status").stdout.splitlines()
                             if line.startswith("prometheus: scrape of") and " is down" in line],
                    60, "make status to show the exporter down")
    assert "prometheus_exporter:9301" in down[0]
    deployment.compose("start", "prometheus_exporter")
    wait_for(lambda: deployment.value('up{job="mite"}') == 1, 60, "the exporter scraped again")
    # Counting starts over in the new exporter; Prometheus keeps what it had, the collector too.
    wait_for(lambda: deployment.value("sum(increase(mite_http_response_total[20s]))"), 60, "new responses")
    assert deployment.value("sum(mite_http_response_total)", at=before) == total_before
    wait_for(lambda: _collected_bytes(deployment) > collected, 60, "the collector to keep writing")


def _collected_bytes(deployment):
    (cid,) = deployment.compose("ps", "-q", "collector").stdout.split()
    out = run(["docker", "exec", cid, "du", "-sb", "/mite/collector_data"]).stdout
    return int(out.split()[0])


def test_a_controller_without_its_scenario_says_so_and_recovers(deployment):
    before = time.time()
    total_before = deployment.value("sum(mite_http_response_total)", at=before)
    empty = deployment.tmp_path / "no-scenario"
    empty.mkdir()
    empty.chmod(0o755)
    # No scenario in the mounted folder: the controller exits with one line and is restarted.
    deployment.compose("up", "-d", "--no-deps", "controller", MITE_SCENARIOS=empty)
    line = "mite: error: cannot import 'demo:scenario': no module named 'demo'"
    wait_for(lambda: "restarted" in _status_line(deployment, "controller#1"), 120, "a controller restart")
    assert line in _status_line(deployment, "controller#1")
    # Its runners lose it, stop with one line and, restarted, wait for it with another.
    wait_for(lambda: "waiting for the controller at tcp://controller:14301" in deployment.logs("runner"),
             120, "runners waiting for the controller")
    assert "did not answer for 15 s; the runner stops" in deployment.logs("runner")
    # The scenario folder back: the deployment carries on, and nothing collected was lost.
    deployment.compose("up", "-d", "--no-deps", "controller")
    wait_for(lambda: deployment.value("sum(rate(mite_http_response_total[10s]))"), 180, "traffic again")
    wait_for(lambda: deployment.value("sum(mite_runner_count)") == 3, 120, "the 3 runners back")
    # A runner that waited says when the controller answered: its last line is not a stale "waiting".
    assert "the controller at tcp://controller:14301 answered" in deployment.logs("runner")
    assert deployment.value("sum(mite_http_response_total)", at=before) == total_before


def _status_line(deployment, name):
    for line in deployment.make("status").stdout.splitlines():
        if line.startswith(name + " "):
            return line
    return ""


def test_make_logs_follows_every_service(deployment):
    # Every service that has logged shows up in `make logs`, which keeps following until stopped.
    wanted = {"controller", "runner", "stats", "prometheus_exporter", "target", "prometheus"}
    lines = queue.Queue()
    # Debian's docker-compose is Python: unbuffered, its lines reach the pipe as they are logged.
    env = {**deployment.env, "PYTHONUNBUFFERED": "1"}
    follow = subprocess.Popen(["make", "-s", "--no-print-directory", "logs"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    threading.Thread(target=lambda: [lines.put(line) for line in follow.stdout], daemon=True).start()
    seen = set()
    try:
        deadline = time.monotonic() + 60
        while not wanted <= seen and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            # "runner_2   | ..." (docker-compose v1, maybe coloured) or "mite-deploytest-runner-2 | ..."
            prefix = re.match(rf"(?:{PROJECT}-)?([a-z_]+)[_-]\d+\s*\|", re.sub(r"\x1b\[[0-9;]*m", "", line))
            if prefix:
                seen.add(prefix.group(1))
        assert follow.poll() is None, "make logs stopped by itself"
    finally:
        if follow.poll() is None:
            os.killpg(follow.pid, signal.SIGTERM)
        follow.wait(30)
    assert wanted <= seen, wanted - seen


def test_clean_leaves_nothing_behind(deployment):
    deployment.make("clean", timeout=180)
    assert deployment.containers("container") == []
    assert deployment.containers("network") == []
    assert deployment.containers("volume") == []
    assert "not up" in deployment.make("status").stdout
