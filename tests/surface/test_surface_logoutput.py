"""mite.logoutput's Python processors: the same log lines and figures as mite 2.11.0's for the same
messages (on a fake clock), `mite receiver --processor=...` fed by a real ZeroMQ PUSH, and user
subclasses running their Python bodies in a local run while the default names stay native."""

import json
import logging
import re
import signal
import subprocess
import textwrap
import time

import msgpack
import pytest
import zmq
from surface_testlog_support import (
    OURS_MITE,
    OURS_PYTHON,
    TIMEOUT,
    require_reference,
    run_script,
    wait_for,
)

from mite.logoutput import (
    NATIVE,
    DebugMessageOutput,
    FinagleStatsOutput,
    GenericStatsOutput,
    HttpStatsOutput,
    MsgOutput,
)

COMPARE = r"""
    import json, logging
    import mite.logoutput as lo

    class Clock:
        t = 1000.0
        def time(self):
            return self.t

    clock = Clock()
    lo.time = clock  # the processors read time.time() through the module's `time`
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append([record.name, record.levelname, record.getMessage()])

    logging.getLogger().addHandler(Keep())
    logging.getLogger().setLevel(logging.DEBUG)
    opts = {"--journey-logging": True, "--hide-constant-logs": False, "--report": True,
            "--benchmark-percentiles": "50:0,90:100,99:0"}
    procs = [lo.HttpStatsOutput(opts), lo.FinagleStatsOutput(opts, period=1),
             lo.MsgOutput(opts), lo.DebugMessageOutput(opts)]
    ids = {"test": "t", "runner_id": 1, "journey": "m:j", "context_id": 2, "scenario_id": 1,
           "scenario_data_id": 1, "transaction": "__root__ :: a", "transaction_id": 3}
    script = []
    for i in range(40):
        script.append((i * 0.37, {"type": "http_metrics", "total_time": 0.001 * ((i * 7) % 13 + 1),
                                  "download_size": 100.0 + i, "method": b"GET", **ids}))
        if i % 5 == 0:
            script.append((i * 0.37, {"type": "finagle_metrics", "total_time": 0.01 * (i % 3 + 1), **ids}))
        if i % 9 == 0:
            script.append((i * 0.37, {"type": "error", "message": "bad", "ex_type": "MiteError",
                                      "location": "f.py:1:j", "status": 500, **{**ids, "journey": f"m:j{i % 2}"}}))
        if i % 11 == 0:
            script.append((i * 0.37, {"type": "exception", "message": "ValueError: x", "ex_type": "ValueError",
                                      "location": "f.py:2:j", "stacktrace": "  File f.py\n    raise\n", **ids}))
        if i % 13 == 0:
            script.append((i * 0.37, {"type": "debug_console_message", "text": f"note {i}", **ids}))
    script.append((20.0, {"type": "txn", "start_time": 1.0, "end_time": 2.0, "had_error": False, **ids}))
    for offset, msg in script:
        clock.t = 1000.0 + offset
        msg = {**msg, "time": clock.t}
        for p in procs:
            p.process_message(dict(msg))
    props = {}
    for p in procs[:2]:
        props[p.log_name] = {
            name: getattr(p, name) for name in (
                "error_total", "mean_resp_time", "max_resp_time_recent", "min_resp_time_recent",
                "req_sec_mean", "resp_time_standard_deviation", "req_sec_standard_deviation",
                "resp_time_within_standard_deviation", "req_sec_within_standard_deviation",
                "percentiles_list_resp_time_store", "_resp_time_min", "_resp_time_max",
                "_req_sec_min", "_req_sec_max", "_data_transferred", "_req_total",
                "_journey_logging", "_error_journeys")
        }
    print(json.dumps({"records": records, "props": props}, default=str))
"""

# mite 2.11 prints a percentile that falls exactly on a sample as f"{x}:.6f"; ours as f"{x:.6f}".
_PCT_BUG = re.compile(r":([0-9.e+-]+):\.6f")


def _fix_pct(text):
    return _PCT_BUG.sub(lambda m: f":{float(m.group(1)):.6f}", text)


def test_same_lines_and_figures_as_mite_2_11(tmp_path):
    ref = require_reference()
    outs = []
    for python in (OURS_PYTHON, ref):
        proc = run_script(python, COMPARE, tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(json.loads(proc.stdout))
    ours, theirs = outs
    theirs["records"] = [[n, lvl, _fix_pct(text)] for n, lvl, text in theirs["records"]]
    mine = [r for r in ours["records"] if r[0] in ("Http Stats", "Finagle Stats", "MSG", "Debug Logger")]
    ref_lines = [r for r in theirs["records"] if r[0] in ("Http Stats", "Finagle Stats", "MSG", "Debug Logger")]
    assert mine == ref_lines
    assert ours["props"] == theirs["props"]
    # The comparison saw every kind of line.
    names = {(n, lvl) for n, lvl, _ in mine}
    assert names == {("Http Stats", "INFO"), ("Finagle Stats", "INFO"), ("MSG", "WARNING"),
                     ("MSG", "DEBUG"), ("Debug Logger", "INFO")}  # fmt: skip
    assert any(text.startswith("Total errors for m:j1 :") for _, _, text in mine)
    assert any("min:0.001000" in text for _, _, text in mine)


def test_journey_logging_flag():
    # Upstream's test_logging.py: an empty string (docopt's value when given) turns it on.
    assert HttpStatsOutput({"--journey-logging": ""})._journey_logging is True
    assert HttpStatsOutput({})._journey_logging is False
    assert HttpStatsOutput({"--journey-logging": False})._journey_logging is False


def test_msg_output_leaves_the_message_whole(caplog):
    msg = {"type": "exception", "time": 5.5, "message": "m", "ex_type": "E", "stacktrace": "st\n",
           "journey": "a:b"}  # fmt: skip
    before = dict(msg)
    with caplog.at_level(logging.WARNING, logger="MSG"):
        MsgOutput({}).process_message(msg)
    assert msg == before
    assert caplog.records[0].getMessage() == "[exception] 5.500000 journey=a:b\nE: m\nst\n"


def test_constructors_take_no_options_as_the_receiver_makes_them():
    for cls in (MsgOutput, DebugMessageOutput, HttpStatsOutput, FinagleStatsOutput):
        assert hasattr(cls(), "process_message")
    assert FinagleStatsOutput({}, period=5)._period == 5


def test_generic_stats_output_is_a_base_class():
    with pytest.raises(TypeError, match="message_types and log_name"):
        GenericStatsOutput({})

    class Mine(GenericStatsOutput):
        message_types = {"mine"}
        log_name = "Mine"

    assert Mine({})._logger.name == "Mine Stats"


def test_figures_of_one_sample_do_not_raise():
    # Python's statistics raises below two samples (mite 2.11's --report crashed on short tests).
    h = HttpStatsOutput({"--report": True, "--benchmark-percentiles": "50:0,99:10"})
    h._resp_time_store = [0.25]
    h._req_sec_store = [4.0]
    h._req_total = 1
    assert h.resp_time_standard_deviation == 0 and h.req_sec_standard_deviation == 0
    assert h.percentiles_list_resp_time_store == [(50, 0, 0.25), (99, 10, 0.25)]
    assert (h.mean_resp_time, h.req_sec_mean) == (0.25, 4.0)
    assert HttpStatsOutput({}).req_sec_mean == 0


def test_the_default_names_switch_on_the_native_processors():
    assert NATIVE == {
        "mite.logoutput:HttpStatsOutput": "console",
        "mite.logoutput:MsgOutput": "log_messages",
    }


SUBCLASSES = """
    import logging
    from mite.logoutput import HttpStatsOutput, MsgOutput

    class QuickStats(HttpStatsOutput):
        log_name = "Quick"
        message_types = {"quick_metrics"}

        def __init__(self, opts=None):
            super().__init__(opts, period=0.3)

    class LoudMsg(MsgOutput):
        def __init__(self, opts=None):
            super().__init__(opts)
            self._logger = logging.getLogger("LOUD")
"""


def _frame(**msg):
    return msgpack.packb({"time": time.time(), **msg}, use_bin_type=True)


def test_receiver_runs_the_python_processors_fed_by_zmq(tmp_path):
    (tmp_path / "user_processors.py").write_text(textwrap.dedent(SUBCLASSES))
    zctx = zmq.Context()
    push = zctx.socket(zmq.PUSH)
    port = push.bind_to_random_port("tcp://127.0.0.1")
    log = open(tmp_path / "receiver.log", "w+")  # noqa: SIM115 - closed below
    procs = [f"--processor=mite.logoutput:{c}" for c in ("MsgOutput", "HttpStatsOutput", "DebugMessageOutput")]
    procs += ["--processor=user_processors:QuickStats", "--processor=user_processors:LoudMsg"]
    receiver = subprocess.Popen(
        [OURS_MITE, "receiver", f"tcp://127.0.0.1:{port}", *procs],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        push.send(_frame(type="exception", message="boom", ex_type="ValueError",
                         stacktrace="  File j.py\n", journey="j:k"))  # fmt: skip
        push.send(_frame(type="debug_console_message", text="hello from a journey"))

        def stats_seen():
            # Requests keep arriving until both stats processors have closed a period.
            push.send(_frame(type="http_metrics", total_time=0.02, download_size=5.0, method=b"GET"))
            push.send(_frame(type="quick_metrics", total_time=0.5))
            text = (tmp_path / "receiver.log").read_text()
            return "[Http Stats]" in text and "[Quick Stats]" in text and text

        wait_for(stats_seen, "stats lines from the receiver", timeout=TIMEOUT, proc=receiver)
        # Stopped once idle: everything pushed has been processed when the last one is logged.
        push.send(_frame(type="debug_console_message", text="the last message"))
        wait_for(lambda: "the last message" in (tmp_path / "receiver.log").read_text(),
                 "the last message", proc=receiver)  # fmt: skip
    finally:
        receiver.send_signal(signal.SIGTERM)
        try:
            receiver.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            receiver.kill()
            receiver.wait()
            raise AssertionError("mite receiver did not stop on SIGTERM") from None
        finally:
            push.close(0)
            zctx.term()
            log.close()
    text = (tmp_path / "receiver.log").read_text()
    assert "Traceback" not in text
    assert receiver.returncode == 0
    assert "<WARNING> [MSG] [" in text and "logoutput.py" in text
    assert "journey=j:k\nValueError: boom\n  File j.py" in text
    assert "<WARNING> [LOUD]" in text
    assert "<INFO> [Debug Logger]" in text and "hello from a journey" in text
    http = [ln for ln in text.splitlines() if "[Http Stats]" in ln]
    assert any("Total> #Reqs:" in ln and "#Errs:1" in ln for ln in http), http
    assert any(re.search(r"Last 2 Secs> #Reqs:\d+ #Errs:\d+ Req/S:[0-9.]+ min:0.020000 ", ln) for ln in http)
    assert any("Last 0.3 Secs> #Reqs:" in ln and "max:0.500000" in ln for ln in text.splitlines())


JOURNEYS = """
    import asyncio

    async def journey(ctx):
        # Spans several of QuickStats' 0.3 s periods.
        for _ in range(60):
            ctx.send("quick_metrics", total_time=0.05)
            await asyncio.sleep(0.02)

    async def failing(ctx):
        raise ValueError("on purpose")
"""


def _run_local(tmp_path, processors, journey="journeys:journey"):
    (tmp_path / "journeys.py").write_text(textwrap.dedent(JOURNEYS))
    (tmp_path / "user_processors.py").write_text(textwrap.dedent(SUBCLASSES))
    return subprocess.run(
        [OURS_MITE, "journey", "run", journey, f"--message-processors={processors}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT * 2, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_user_subclass_runs_its_python_body_in_a_local_run(tmp_path):
    proc = _run_local(tmp_path, "user_processors:QuickStats,user_processors:LoudMsg")
    assert proc.returncode == 0, proc.stderr[-3000:]
    quick = [ln for ln in proc.stderr.splitlines() if "[Quick Stats]" in ln]
    assert quick and all("logoutput.py" in ln for ln in quick), proc.stderr[-3000:]
    assert any("Total> #Reqs:" in ln for ln in quick)
    failed = _run_local(tmp_path, "user_processors:LoudMsg", journey="journeys:failing")
    assert "<WARNING> [LOUD] [" in failed.stderr and "ValueError: on purpose" in failed.stderr
    # The default names are not in the list, so no native console or MSG lines appear.
    assert "[Http Stats]" not in proc.stderr and "[MSG]" not in failed.stderr


def test_the_default_names_run_natively_in_a_local_run(tmp_path):
    proc = _run_local(tmp_path, "mite.logoutput:MsgOutput", journey="journeys:failing")
    msg = [ln for ln in proc.stderr.splitlines() if "<WARNING> [MSG]" in ln]
    assert msg, proc.stderr[-3000:]
    # Native lines name the Rust source, not logoutput.py.
    assert all("logoutput.py" not in ln and ".rs:" in ln for ln in msg)
