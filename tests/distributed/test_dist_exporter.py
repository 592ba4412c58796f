"""`mite prometheus_exporter`: PULL bound at --stats-out-socket takes stats dumps; GET /metrics at
--web-address serves them in Prometheus' text format, exactly as mite 2.11.0 writes it."""

import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

from distsupport import (
    beyond_reference,
    free_address,
    free_port,
    needs_ref,
    parse_metrics,
    scrape,
    totals,
    wait_for,
    wait_for_web,
)

BINS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
ERR_LABELS = ("test", "journey", "transaction", "location", "ex_type", "message")
TXN_LABELS = ("test", "journey", "transaction", "had_error")
HTTP_LABELS = ("test", "journey", "transaction", "method", "response_code")
J = ("dist:scenario", "dist:journey")


def counter(name, labels, metrics):
    return {"type": "Counter", "name": name, "metrics": metrics, "labels": labels}


def gauge(name, labels, metrics):
    return {"type": "Gauge", "name": name, "metrics": metrics, "labels": labels}


def histogram(name, labels, bins, bin_counts, sums, total_counts):
    return {"type": "Histogram", "name": name, "bin_counts": bin_counts, "sums": sums,
            "total_counts": total_counts, "bins": bins, "labels": labels}


DUMP1 = [
    counter("mite_journey_error_total", ERR_LABELS, {
        (*J, "__root__ :: get", "dist.py:9:journey", "ValueError", 'a "quoted" \\ word'): 2,
    }),
    counter("mite_transaction_total", TXN_LABELS, {
        (*J, "__root__", False): 3,
        (*J, "__root__", True): 1,
    }),
    gauge("mite_actual_count", ("test", "scenario_id"), {("dist:scenario", 1): 3}),
    gauge("mite_required_count", ("test", "scenario_id"), {("dist:scenario", 1): 4}),
    gauge("mite_runner_count", ("test",), {("dist:scenario",): 2}),
    counter("mite_http_response_total", HTTP_LABELS, {
        (*J, "__root__ :: get", b"GET", 200): 5,
        (*J, "__root__ :: get", None, None): 1,
    }),
    histogram("mite_http_response_time_seconds", ("transaction",), BINS,
              {("__root__ :: get",): (0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3)},
              {("__root__ :: get",): 0.0625},
              {("__root__ :: get",): 4}),
]

DUMP2 = [
    counter("mite_journey_error_total", ERR_LABELS, {}),
    counter("mite_transaction_total", TXN_LABELS, {(*J, "__root__", False): 2}),
    gauge("mite_actual_count", ("test", "scenario_id"), {("dist:scenario", 1): 4,
                                                         ("dist:scenario", 2): 1}),
    gauge("mite_required_count", ("test", "scenario_id"), {}),
    gauge("mite_runner_count", ("test",), {("dist:scenario",): 1}),
    counter("mite_http_response_total", HTTP_LABELS, {
        (*J, "__root__ :: get", b"GET", 200): 3,
        (*J, "__root__ :: post", b"POST", 500): 2,
    }),
    histogram("mite_http_response_time_seconds", ("transaction",), BINS,
              {("__root__ :: get",): (0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
               ("__root__ :: a-post",): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)},
              {("__root__ :: get",): 0.005, ("__root__ :: a-post",): 33.25},
              {("__root__ :: get",): 1, ("__root__ :: a-post",): 1}),
    # A stat first seen in a later dump, and a user's own.
    gauge("my_gauge", ("a", "b"), {("x", 0.5): 2.5}),
]


def buckets(name, labels, counts, total, total_sum):
    les = ["0.000100", "0.001000", "0.010000", "0.050000", "0.100000", "0.200000", "0.400000",
           "0.800000", "1.000000", "2.000000", "4.000000", "8.000000", "16.000000", "32.000000",
           "64.000000"]
    lines = [f'{name}_bucket{{{labels},le="{le}"}} {c}' for le, c in zip(les, counts, strict=True)]
    lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {total}')
    lines.append(f"{name}_sum{{{labels}}} {total_sum}")
    lines.append(f"{name}_count{{{labels}}} {total}")
    return "\n".join(lines)


T = 'test="dist:scenario",journey="dist:journey"'
H = "mite_http_response_time_seconds"
# Counter and gauge samples are `name {labels} value` (with the space); label values are Python's
# str() of the decoded value; a counter key first seen in a later dump prints as a float (2.0);
# histogram keys are sorted; blocks are separated by one blank line; no newline at the very end.
AFTER_DUMP1 = "\n\n".join([
    "# TYPE mite_journey_error_total counter\n"
    f'mite_journey_error_total {{{T},transaction="__root__ :: get",location="dist.py:9:journey",'
    'ex_type="ValueError",message="a \\"quoted\\" \\\\ word"} 2',
    "# TYPE mite_transaction_total counter\n"
    f'mite_transaction_total {{{T},transaction="__root__",had_error="False"}} 3\n'
    f'mite_transaction_total {{{T},transaction="__root__",had_error="True"}} 1',
    "# TYPE mite_actual_count gauge\n"
    'mite_actual_count {test="dist:scenario",scenario_id="1"} 3',
    "# TYPE mite_required_count gauge\n"
    'mite_required_count {test="dist:scenario",scenario_id="1"} 4',
    "# TYPE mite_runner_count gauge\n"
    'mite_runner_count {test="dist:scenario"} 2',
    "# TYPE mite_http_response_total counter\n"
    f'mite_http_response_total {{{T},transaction="__root__ :: get",method="b\'GET\'",'
    'response_code="200"} 5\n'
    f'mite_http_response_total {{{T},transaction="__root__ :: get",method="None",'
    'response_code="None"} 1',
    f"# TYPE {H} histogram\n"
    + buckets(H, 'transaction="__root__ :: get"', (0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),
              4, "0.062500"),
])
AFTER_DUMP2 = "\n\n".join([
    "# TYPE mite_journey_error_total counter\n"
    f'mite_journey_error_total {{{T},transaction="__root__ :: get",location="dist.py:9:journey",'
    'ex_type="ValueError",message="a \\"quoted\\" \\\\ word"} 2',
    "# TYPE mite_transaction_total counter\n"
    f'mite_transaction_total {{{T},transaction="__root__",had_error="False"}} 5\n'
    f'mite_transaction_total {{{T},transaction="__root__",had_error="True"}} 1',
    "# TYPE mite_actual_count gauge\n"
    'mite_actual_count {test="dist:scenario",scenario_id="1"} 4\n'
    'mite_actual_count {test="dist:scenario",scenario_id="2"} 1',
    "# TYPE mite_required_count gauge\n"
    'mite_required_count {test="dist:scenario",scenario_id="1"} 4',
    "# TYPE mite_runner_count gauge\n"
    'mite_runner_count {test="dist:scenario"} 1',
    "# TYPE mite_http_response_total counter\n"
    f'mite_http_response_total {{{T},transaction="__root__ :: get",method="b\'GET\'",'
    'response_code="200"} 8\n'
    f'mite_http_response_total {{{T},transaction="__root__ :: get",method="None",'
    'response_code="None"} 1\n'
    f'mite_http_response_total {{{T},transaction="__root__ :: post",method="b\'POST\'",'
    'response_code="500"} 2.0',
    f"# TYPE {H} histogram\n"
    + buckets(H, 'transaction="__root__ :: a-post"', (0,) * 14 + (1,), 1, "33.250000") + "\n"
    + buckets(H, 'transaction="__root__ :: get"', (0, 1, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4),
              5, "0.067500"),
    "# TYPE my_gauge gauge\n"
    'my_gauge {a="x",b="0.5"} 2.5',
])


class Exporter:
    def __init__(self, deployment, impl="ours"):
        self.port = free_port()
        self.address = free_address()
        self.proc = deployment.start(
            "prometheus_exporter",
            f"--stats-out-socket={self.address}",
            f"--web-address=127.0.0.1:{self.port}",
            impl=impl,
        )
        self.push = deployment.push_connect(self.address, watch=[self.proc])

    def body(self):
        got = scrape(self.port)
        return got and got[2]

    def wait_body(self, want, timeout=60.0):
        """The body once it equals `want` (or, after `timeout` s, whatever it is then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.body()
            if body == want:
                return body
            self.proc.assert_alive("while waiting for /metrics")
            time.sleep(0.1)
        return self.body()


def test_metrics_text_after_two_dumps(deployment):
    exporter = Exporter(deployment)
    status, content_type, body = wait_for_web(exporter.port, watch=[exporter.proc])
    assert status == 200
    assert content_type.startswith("text/plain")
    assert body == ""  # nothing received yet
    exporter.push.send(DUMP1)
    assert exporter.wait_body(AFTER_DUMP1) == AFTER_DUMP1
    exporter.push.send(DUMP2)
    assert exporter.wait_body(AFTER_DUMP2) == AFTER_DUMP2


@needs_ref
def test_same_text_as_the_reference(deployment):
    ours, ref = Exporter(deployment, "ours"), Exporter(deployment, "ref")
    dumps = [DUMP1, DUMP2, DUMP2, DUMP1]
    for exporter in (ours, ref):
        wait_for_web(exporter.port, watch=[exporter.proc])
        for dump in dumps:
            exporter.push.send(dump)
    # Both have taken every dump once the transaction counter reaches 3+2+2+3.
    done = 'had_error="False"} 10'
    bodies = [
        wait_for(lambda e=e: (b := e.body()) and done in b and b, 60, "all four dumps", [e.proc])
        for e in (ours, ref)
    ]
    assert bodies[0] == bodies[1]


def test_many_dumps_accumulate(deployment):
    exporter = Exporter(deployment)
    wait_for_web(exporter.port, watch=[exporter.proc])
    one = [counter("mite_http_response_total", HTTP_LABELS, {(*J, "t", b"GET", 200): 1})]
    for _ in range(500):
        exporter.push.send(one)
    line = (f'mite_http_response_total {{{T},transaction="t",method="b\'GET\'",'
            'response_code="200"} 500')
    want = "# TYPE mite_http_response_total counter\n" + line
    assert exporter.wait_body(want) == want


def test_text_parses_as_prometheus_exposition(deployment):
    """Every line of the text is a TYPE comment, a sample or a block separator."""
    exporter = Exporter(deployment)
    wait_for_web(exporter.port, watch=[exporter.proc])
    exporter.push.send(DUMP1)
    exporter.push.send(DUMP2)
    body = exporter.wait_body(AFTER_DUMP2)
    samples = parse_metrics(body)
    assert len(samples) == body.count("\n") + 1 - body.count("# TYPE") - body.count("\n\n")
    by_name = {}
    for name, labels, value in samples:
        by_name.setdefault(name, []).append((labels, value))
    assert sum(v for _, v in by_name["mite_http_response_total"]) == 11


PROMTOOL = shutil.which("promtool")


def test_promtool_accepts_the_text(deployment):
    assert PROMTOOL, "promtool is not installed (`make ref-venv` installs the prometheus package)"
    exporter = Exporter(deployment)
    wait_for_web(exporter.port, watch=[exporter.proc])
    exporter.push.send(DUMP1)
    exporter.push.send(DUMP2)
    body = exporter.wait_body(AFTER_DUMP2)
    assert body == AFTER_DUMP2
    # mite 2.11.0's text has no newline at the very end: Prometheus' scraper takes it, but
    # promtool's parser says "unexpected end of input stream", so promtool sees it with one.
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=body + "\n", text=True,
                           capture_output=True, timeout=30)
    # Exit status 3: lint notes only (no HELP text, gauges named *_count); 1: it could not parse.
    assert check.returncode in (0, 3), check
    assert "parsing error" not in check.stdout + check.stderr, check
    assert "mite_http_response_total no help text" in check.stdout + check.stderr, check


@beyond_reference("counting frames and logging the totals at shutdown")
def test_totals_at_shutdown(deployment):
    exporter = Exporter(deployment)
    wait_for_web(exporter.port, watch=[exporter.proc])
    for _ in range(7):
        exporter.push.send(DUMP1)
    wait_for(lambda: 'had_error="True"} 7' in exporter.body(), 60, "seven dumps", [exporter.proc])
    exporter.proc.signal(signal.SIGINT)
    exporter.proc.wait(10)
    counts = totals(exporter.proc.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + exporter.proc.stderr()[-3000:]
    assert counts.get("received") == 7, counts


def _status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_any_path_but_metrics_is_a_404(deployment):
    # Only the status is asserted (not the body or headers), so any correct HTTP server passes.
    exporter = Exporter(deployment)
    wait_for_web(exporter.port, watch=[exporter.proc])
    for path in ("/", "/other", "/metrics/x", "/favicon.ico"):
        assert _status(exporter.port, path) == 404, path
    assert _status(exporter.port, "/metrics") == 200
    exporter.proc.assert_alive()
