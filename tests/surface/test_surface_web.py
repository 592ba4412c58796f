"""mite.web and mite.web.prometheus: the text mite 2.11.0's classes write for the same stats dumps,
the same text the native `mite prometheus_exporter` serves, and `mite.web.app` over real HTTP."""

import subprocess
import threading
import urllib.error
import urllib.request
from textwrap import dedent

import msgpack
import zmq
from surface_testlog_support import (
    OURS_MITE,
    OURS_PYTHON,
    TIMEOUT,
    free_port,
    require_reference,
    run_script,
    wait_for,
)

import mite.web
from mite.web.prometheus import (
    STAT_TYPES,
    Counter,
    Gauge,
    Histogram,
    PrometheusMetrics,
    format_dict,
)


def _dumps():
    """Two stats dumps as `mite stats` sends them: counters, a gauge, histograms, label values of
    several types (bytes, bool, None, int), a key new in the second dump."""
    def counter(metrics):
        return {"type": "Counter", "name": "mite_http_response_total", "metrics": metrics,
                "labels": ("test", "journey", "transaction", "method", "response")}  # fmt: skip

    hist = {"type": "Histogram", "name": "mite_http_response_time_seconds",
            "labels": ("transaction", "ok"), "bins": [0.01, 0.1, 1],
            "bin_counts": {("a", True): [1, 3, 4], ("b", True): [0, 0, 2]},
            "sums": {("a", True): 0.75, ("b", True): 1.5},
            "total_counts": {("a", True): 4, ("b", True): 2}}  # fmt: skip
    first = [
        counter({("t", "m:j", "__root__", b"GET", 200): 3, ("t", "m:j", "x", b"POST", 500): 1}),
        {"type": "Gauge", "name": "mite_actual_count", "metrics": {("t", 1): 5, ("t", 2): 0},
         "labels": ("test", "scenario_id")},
        hist,
    ]  # fmt: skip
    second = [
        counter({("t", "m:j", "__root__", b"GET", 200): 2, ("t", "m:j", "y", b"GET", None): 1}),
        {"type": "Gauge", "name": "mite_actual_count", "metrics": {("t", 1): 2},
         "labels": ("test", "scenario_id")},
        {**hist, "bin_counts": {("c", False): [0, 1, 1]}, "sums": {("c", False): 0.05},
         "total_counts": {("c", False): 1}},
        {"type": "Counter", "name": "mite_journey_error_total", "metrics": {("t", 'q"uote\\'): 1},
         "labels": ("test", "journey")},
    ]  # fmt: skip
    # Through msgpack and back, as every dump arrives (tuples, bytes, nested keys).
    return [
        msgpack.unpackb(msgpack.packb(d, use_bin_type=True), raw=False, use_list=False,
                        strict_map_key=False)
        for d in (first, second)
    ]  # fmt: skip


def _ours_text(dumps):
    pm = PrometheusMetrics()
    for dump in dumps:
        pm.process(dump)
    return pm.format()


def test_upstream_formats():
    msg = {"name": "foo", "labels": ("bar", "baz"), "metrics": {("one", "two"): 1}}
    c = Counter("foo", msg)
    c.update(msg)
    assert c.format() == '# TYPE foo counter\nfoo {bar="one",baz="two"} 2'
    g = Gauge("foo", msg)
    g.update(msg)
    assert g.format() == '# TYPE foo gauge\nfoo {bar="one",baz="two"} 1'
    h = Histogram("foo", {"labels": ("bar",), "bin_counts": {}, "sums": {("one",): 5},
                          "total_counts": {("one",): 1}, "bins": (1, 2)})  # fmt: skip
    assert h.format() == dedent("""\
        # TYPE foo histogram
        foo_bucket{bar="one",le="1.000000"} 0
        foo_bucket{bar="one",le="2.000000"} 0
        foo_bucket{bar="one",le="+Inf"} 1
        foo_sum{bar="one"} 5.000000
        foo_count{bar="one"} 1""")
    assert format_dict({"a": 'x"y\\z', "b": None}) == 'a="x\\"y\\\\z",b="None"'
    assert set(STAT_TYPES) == {"Counter", "Gauge", "Histogram"}


REFERENCE_SCRIPT = """
    import sys, msgpack
    from mite.web.prometheus import PrometheusMetrics
    pm = PrometheusMetrics()
    with open(sys.argv[1], "rb") as f:
        for dump in msgpack.Unpacker(f, raw=False, use_list=False, strict_map_key=False):
            pm.process(dump)
    sys.stdout.write(pm.format())
"""


def test_same_text_as_mite_2_11(tmp_path):
    ref = require_reference()
    path = tmp_path / "dumps.msgpack"
    path.write_bytes(b"".join(msgpack.packb(d, use_bin_type=True) for d in _dumps()))
    proc = run_script(ref, REFERENCE_SCRIPT, tmp_path, [path])
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = _ours_text(_dumps())
    assert ours == proc.stdout
    assert 'method="b\'GET\'",response="None"} 1.0' in ours
    # The same script under our interpreter reads the file the same way.
    assert run_script(OURS_PYTHON, REFERENCE_SCRIPT, tmp_path, [path]).stdout == ours


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()
    except OSError:
        return None, None, ""


def test_same_text_as_the_native_exporter(tmp_path):
    stats_port, web_port = free_port(), free_port()
    exporter = subprocess.Popen(
        [OURS_MITE, "prometheus_exporter", f"--stats-out-socket=tcp://127.0.0.1:{stats_port}",
         f"--web-address=127.0.0.1:{web_port}"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    zctx = zmq.Context()
    push = zctx.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{stats_port}")
    try:
        for dump in _dumps():
            push.send(msgpack.packb(dump, use_bin_type=True))
        want = _ours_text(_dumps())
        url = f"http://127.0.0.1:{web_port}/metrics"
        # Both dumps are in once the second's new stat shows up with its counter's final value.
        wait_for(lambda: "mite_journey_error_total" in _get(url)[2], "both dumps", proc=exporter)
        assert _get(url)[2] == want
    finally:
        push.close(0)
        zctx.term()
        exporter.terminate()
        exporter.wait(TIMEOUT)


def test_app_serves_metrics_over_http():
    pm = mite.web.prometheus_metrics
    pm.stats.clear()
    pm.process(_dumps()[0])
    server = mite.web.app.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, ctype, body = _get(base + "/metrics")
        assert (status, ctype) == (200, "text/plain; charset=utf-8")
        assert body == _ours_text(_dumps()[:1]) == mite.web.metrics()
        assert _get(base + "/other")[0] == 404
        req = urllib.request.Request(base + "/metrics", data=b"x", method="POST")
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("POST /metrics was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 405
    finally:
        server.shutdown()
        server.server_close()
        pm.stats.clear()


def test_histogram_keys_python_cannot_order():
    # mite 2.11's page failed as a whole (TypeError sorting None beside a string).
    h = Histogram("h", {"labels": ("tx",), "bins": [1], "bin_counts": {("a",): [1], (None,): [0]},
                        "sums": {("a",): 0.5, (None,): 2.0}, "total_counts": {("a",): 1, (None,): 1}})
    lines = h.format().splitlines()
    assert lines[1] == 'h_bucket{tx="None",le="1.000000"} 0'
    assert lines[5] == 'h_bucket{tx="a",le="1.000000"} 1'


def test_module_names():
    for name in ("app", "metrics", "prometheus_metrics", "PrometheusMetrics", "influx_metrics",
                 "InfluxMetrics"):  # fmt: skip
        assert hasattr(mite.web, name), name
    assert isinstance(mite.web.prometheus_metrics, PrometheusMetrics)
