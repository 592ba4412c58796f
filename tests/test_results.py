"""The run's results as a user sees them: the JSON summary, the HTML report opened in headless
chromium, `--threshold`, and `mite report` on a collector folder (docs/RESULTS.md)."""

import base64
import json
import math
import shutil
import subprocess
import time
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from websockets.sync.client import connect

from helpers import collected, http_server, of_type, run_mite, write_module

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# HDR histograms keep 3 significant digits: a value is reported within 1/1024 below itself.
PRECISION = 1 / 1024

SCENARIO = """
    import itertools

    from mite.scenario import StopVolumeModel
    from mite_http import mite_http

    COUNT = itertools.count()


    def vm(start, end):
        if start >= 2:
            raise StopVolumeModel
        return 3


    @mite_http
    async def journey(ctx):
        base = ctx.config.get("base")
        async with ctx.transaction("browse"):
            await ctx.http.get(base + "/fast")
        async with ctx.transaction("checkout"):
            await ctx.http.get(base + "/slow")
            await ctx.http.get(base + "/fail")
            if next(COUNT) % 4 == 0:
                raise ValueError("out of stock")


    def scenario():
        return [["shop:journey", None, vm]]
"""


class Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(0.02)
        status = 500 if self.path == "/fail" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    with http_server(Site) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


THRESHOLDS = ["checkout:p(95)<10s", "browse:count>=1", "checkout:p(50)<1us", "error_rate<=100%"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, site):
    cwd = tmp_path_factory.mktemp("results")
    write_module(cwd, "shop", SCENARIO)
    args = ["scenario", "test", "shop:scenario", "--max-loop-delay=0.2", f"--add-to-config=base:{site}",
            "--json-summary=summary.json", "--html-report=report.html", "--report"]
    args += [f"--threshold={t}" for t in THRESHOLDS]
    proc = run_mite(args, cwd=cwd)
    summary = json.loads((cwd / "summary.json").read_text())
    return cwd, proc, summary


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_a_broken_threshold_fails_the_run_and_every_verdict_is_reported(run):
    cwd, proc, summary = run
    assert proc.returncode == 1, proc.stderr
    verdicts = {v["expression"]: v["passed"] for v in summary["thresholds"]}
    assert verdicts == {t: t != "checkout:p(50)<1us" for t in THRESHOLDS}
    assert "Threshold 'checkout:p(50)<1us' broken: p(50) was " in proc.stderr
    assert "MITE Benchmark Report" in proc.stdout
    assert "| checkout:p(50)<1us |" in proc.stdout and "FAIL" in proc.stdout


def test_percentiles_equal_the_collectors_http_metrics_within_the_precision(run):
    cwd, _, summary = run
    metrics = of_type(collected(cwd), "http_metrics")
    assert summary["version"] == 1
    assert summary["totals"]["requests"] == len(metrics) > 0
    groups = {None: metrics, "checkout": [m for m in metrics if m["transaction"] == "__root__ :: checkout"]}
    for name, group in groups.items():
        block = summary["latency"] if name is None else next(
            t["latency"] for t in summary["transactions"] if t["name"] == name
        )
        assert block["count"] == len(group)
        for key, got in block["percentiles_ms"].items():
            exact = round(nearest_rank([m["total_time"] for m in group], float(key)) * 1e6) / 1000
            assert exact * (1 - PRECISION) - 0.001 <= got <= exact, (name, key, got, exact)
    errors = of_type(collected(cwd), "exception")
    assert summary["errors_by_type"] == {"ValueError": len(errors)} and errors
    assert summary["status_codes"]["500"] == len([m for m in metrics if m["response_code"] == 500])
    assert any(r is not None for r in summary["series"]["required"])


class Page:
    """One chromium tab over the DevTools protocol: events are kept as they arrive."""

    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg["result"]
            self.events.append(msg)

    def wait_for(self, method):
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=60)))

    def value(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"]["value"]


@pytest.fixture
def chromium(tmp_path):
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,2400", "about:blank"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        for line in proc.stderr:
            if line.startswith("DevTools listening on "):
                port = line.split(":")[2].split("/")[0]
                break
        else:
            pytest.fail("chromium did not start its DevTools endpoint")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_html_report_opens_offline_with_its_charts_and_the_summarys_numbers(run, chromium, tmp_path):
    cwd, _, summary = run
    page = chromium
    for domain in ("Runtime", "Log", "Network", "Page"):
        page.call(f"{domain}.enable")
    page.call("Page.navigate", url=(cwd / "report.html").as_uri())
    page.wait_for("Page.loadEventFired")
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    (tmp_path / "report.png").write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {tmp_path / 'report.png'}")
    errors = [e for e in page.events if e.get("method") in ("Runtime.exceptionThrown",)
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []
    requests = [e["params"]["request"]["url"] for e in page.events
                if e.get("method") == "Network.requestWillBeSent"]
    assert all(u.startswith("file:") for u in requests), requests
    series = page.value(
        "Object.fromEntries([...document.querySelectorAll('figure.chart')].map(f => [f.id, "
        "f.querySelectorAll('svg polyline[stroke-width=\"2\"]').length]))"
    )
    assert series == {"chart-throughput": 2, "chart-latency": 3, "chart-errors": 1, "chart-volume": 2}
    shown = page.value(
        "Object.fromEntries([...document.querySelectorAll('#summary td, #latency tr:nth-child(2) td')]"
        ".filter(td => td.dataset.key).map(td => [td.dataset.key, td.textContent]))"
    )
    totals = summary["totals"]
    assert shown["requests"] == str(totals["requests"])
    assert shown["errors"] == str(totals["errors"])
    assert shown["requests_per_s"] == f"{totals['requests_per_s']:.3f}"
    assert shown["p95"] == f"{summary['latency']['percentiles_ms']['95']:.3f}"
    assert shown["p99.9"] == f"{summary['latency']['percentiles_ms']['99.9']:.3f}"
    rows = page.value("[...document.querySelectorAll('#transactions tr[data-name]')].map(r => r.dataset.name)")
    assert rows == [t["name"] for t in summary["transactions"]] == ["browse", "checkout"]
    assert page.value("document.querySelectorAll('#urls tr[data-name]').length") == 3


def test_mite_report_reads_a_collector_folder_and_counts_a_torn_frame(run, tmp_path):
    cwd, _, summary = run
    folder = tmp_path / "collector_data"
    shutil.copytree(cwd / "collector_data", folder)
    current = folder / "current"
    whole = current.read_bytes()
    current.write_bytes(whole + b"\x85\xa4type\xachttp_met")
    proc = run_mite(["report", str(folder), "--json-summary=again.json", "--html-report=again.html",
                     "--threshold=p(99)<1ms"], cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert f"mite: 15 bytes after the last whole message were skipped in {folder}\n" in proc.stderr
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["skipped_bytes"] == 15 and again["source"] == "collector folder"
    assert again["totals"]["requests"] == summary["totals"]["requests"]
    assert again["latency"]["percentiles_ms"] == summary["latency"]["percentiles_ms"]
    assert "15 bytes of torn frames were skipped" in (tmp_path / "again.html").read_text()


@pytest.mark.parametrize(
    "extra, line",
    [
        (["--html-report=/nonexistent-dir/r.html"],
         "mite: error: --html-report cannot write /nonexistent-dir/r.html: No such file or directory"),
        (["--json-summary=/proc/no/s.json"],
         "mite: error: --json-summary cannot write /proc/no/s.json: No such file or directory"),
        (["--threshold=checkout:p95<250ms"],
         "mite: error: --threshold 'checkout:p95<250ms': expected a metric p(N) with 0 < N <= 100, med, "
         "avg, min, max, count, rate, errors or error_rate before the operator, got 'p95'"),
    ],
)
def test_bad_report_options_fail_before_the_run_in_one_line(tmp_path, site, extra, line):
    write_module(tmp_path, "shop", SCENARIO)
    proc = run_mite(["scenario", "test", "shop:scenario", *extra], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == line
    assert proc.stdout == ""
    assert not (tmp_path / "collector_data").exists(), "the run must not have started"


def test_mite_report_on_a_missing_folder_is_a_usage_error(tmp_path):
    proc = run_mite(["report", "nowhere"], cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (2, "mite: error: COLLECTOR_DIR nowhere is not a folder\n")
