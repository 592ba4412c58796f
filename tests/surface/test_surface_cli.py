"""mite.cli's 2.11 functions (collector, duplicator, receiver, stats), the names scripts import
from mite.__main__, and `--message-backend`, run as their callers run them."""

import ast
import json
import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import docopt
import pytest
from surface_zmqcli_support import (
    OURS_MITE,
    Feeder,
    Procs,
    free_address,
    pack,
    read_frames,
    wait_for,
    write_module,
)

import mite.__main__ as main
from mite.utils import _msg_backend_module
from mite.zmq import Receiver, Sender

NANOMSG_LINE = "--message-backend=nanomsg is not available in this build; ZMQ is the only message backend"

PROCESSOR = """
    import json

    class Proc:
        def __init__(self):
            self.out = open("processed.txt", "a")

        def process_message(self, msg):
            self.out.write(json.dumps(["msg", msg["type"], msg["n"]]) + "\\n")
            self.out.flush()

        def process_raw_message(self, raw):
            self.out.write(json.dumps(["raw", raw.hex()]) + "\\n")
            self.out.flush()


    class Broken:
        pass
"""


def opts_for(*argv):
    """docopt's option map for `mite ARGV`, built from mite.__main__.__doc__ as scripts do."""
    return docopt.docopt(main.__doc__, list(argv))


def run_in_child(procs, label, call, opts, env=None):
    """Runs `call(opts)` (a 'module:function' name) in a child interpreter, as a script would."""
    module, function = call.split(":")
    return procs.python(
        f"""
        import logging, sys
        logging.basicConfig(level="INFO")
        from {module} import {function} as run
        sys.exit(run({dict(opts)!r}))
        """,
        label,
        env=env,
    )


@pytest.fixture
def procs(tmp_path):
    started = Procs(tmp_path)
    yield started
    started.close()


def test_the_docstring_is_the_command_line_grammar(tmp_path):
    out = subprocess.run([OURS_MITE, "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout == main.__doc__
    opts = opts_for("collector")
    assert opts["--collector-socket"] == "tcp://127.0.0.1:14303" and opts["--message-backend"] == "ZMQ"


def test_main_exports_mite_2_11_names():
    for name in ("controller", "runner", "duplicator", "collector", "recorder", "prometheus_exporter",
                 "setup_logging", "configure_python_path", "har_converter", "cat", "uncat",
                 "scenario_cmd", "journey_cmd", "main", "_controller_log_start", "_controller_log_end",
                 "_create_sender", "_create_runner_transport", "_create_controller_server",
                 "_recorder_receiver", "_create_prometheus_exporter_receiver", "_create_config_manager",
                 "_create_runner", "_create_scenario_manager", "_get_scenario_with_kwargs",
                 "influxdb_exporter", "influxdb_init", "_create_influxdb_exporter_receiver",
                 "_start_web_in_thread", "influx_metrics"):
        assert callable(getattr(main, name)), name
    assert callable(main.stats.stats) and main.stats.Stats.__module__ == "mite.stats"
    assert callable(main.receiver.generic_receiver)
    assert main.collector.__module__ == "mite.cli.collector"
    assert main.duplicator.__module__ == "mite.cli.duplicator"


def test_nanomsg_backend_is_one_line_in_python_and_on_the_command_line(tmp_path):
    assert _msg_backend_module({"--message-backend": "ZMQ"}).__name__ == "mite.zmq"
    with pytest.raises(ValueError) as e:
        _msg_backend_module({"--message-backend": "nanomsg"})
    assert str(e.value) == NANOMSG_LINE
    with pytest.raises(ValueError, match="Unsupported backend zmq"):
        _msg_backend_module({"--message-backend": "zmq"})
    for argv in (["runner", "--message-backend=nanomsg"], ["--message-backend", "nanomsg", "scenario", "test", "x:y"]):
        out = subprocess.run([OURS_MITE, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out
        assert out.stderr == f"mite: error: {NANOMSG_LINE}\nUsage: mite --help\n"
    out = subprocess.run([OURS_MITE, "duplicator", "--message-backend=zmq", "tcp://127.0.0.1:1"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("mite: error: --message-backend expects ZMQ, got 'zmq'\n")


@pytest.mark.parametrize("how", ["command", "function"])
def test_custom_processor_through_receiver(procs, tmp_path, how):
    write_module(tmp_path, "surface_proc", PROCESSOR)
    address = free_address()
    sender = Sender()
    sender.bind(address)
    if how == "command":
        proc = procs.mite("receiver", address, "--processor=surface_proc:Proc", label="receiver")
    else:
        opts = opts_for("receiver", address, "--processor=surface_proc:Proc")
        proc = procs.python(
            f"""
            import logging, sys
            sys.path.insert(0, ".")
            logging.basicConfig(level="INFO")
            from mite.cli.receiver import generic_receiver
            sys.exit(generic_receiver({dict(opts)!r}))
            """,
            "receiver",
        )
    messages = [{"type": "custom", "n": i} for i in range(10)]
    out = tmp_path / "processed.txt"
    feeder = Feeder(sender, messages)
    try:
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 20, "the processor's lines", procs=[proc])
    finally:
        feeder.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x for x in lines if x[0] == "msg"] == [["msg", "custom", i] for i in range(10)]
    assert [x for x in lines if x[0] == "raw"] == [["raw", pack(m).hex()] for m in messages]
    # The function stops on SIGTERM as on SIGINT (a flag the loop reads, never an exception raised
    # inside a processor).
    assert proc.stop(signal.SIGTERM if how == "function" else signal.SIGINT) == 0
    totals = "received=10 malformed=0" + (" oversize=0" if how == "function" else "") + " failed=0"
    assert f"totals: {totals}" in proc.output()


def test_receiver_refuses_a_processor_without_methods(procs, tmp_path):
    write_module(tmp_path, "surface_proc", PROCESSOR)
    opts = opts_for("receiver", free_address(), "--processor=surface_proc:Broken")
    sys.path.insert(0, str(tmp_path))
    try:
        from mite.cli.receiver import generic_receiver

        assert generic_receiver(opts) == 2
    finally:
        sys.path.remove(str(tmp_path))


def test_cli_collector_function_writes_frames_and_stops_on_sigint(procs, tmp_path):
    address = free_address()
    opts = opts_for("collector", f"--collector-socket={address}", "--collector-dir=cdata", "--collector-roll=7")
    proc = run_in_child(procs, "collector", "mite.cli.collector:collector", opts)
    sender = Sender()
    sender.bind(address)
    messages = [{"type": "c", "n": i, "b": b"\x00\x01"} for i in range(10)]
    feeder = Feeder(sender, messages)
    try:
        current = tmp_path / "cdata" / "current"
        wait_for(lambda: current.exists() and len(read_frames(current)) == 3, "the collector's current file", procs=[proc])
    finally:
        feeder.close()
    assert proc.stop() == 0, proc.output()
    rolled = [p for p in (tmp_path / "cdata").iterdir() if p.name not in ("current", "current_start_time")]
    assert len(rolled) == 1 and read_frames(rolled[0]) == [dict(m) for m in messages[:7]]
    assert read_frames(tmp_path / "cdata" / "current") == messages[7:]
    assert "collector totals: received=10" in proc.output()


def test_cli_duplicator_function_copies_to_each_output(procs, tmp_path):
    in_addr, out1, out2 = free_address(), free_address(), free_address()
    proc = run_in_child(procs, "duplicator", "mite.cli.duplicator:duplicator",
                        opts_for("duplicator", f"--message-socket={in_addr}", out1, out2),
                        env=dict(os.environ, MITE_DEBUG_MESSAGES_TO_DUMP="3"))
    receivers = []
    for address in (out1, out2):
        receiver = Receiver()
        receiver.connect(address)
        got = []
        receiver.add_listener(got.append)
        stop = threading.Event()
        thread = threading.Thread(target=receiver._run, args=(stop.is_set,))
        thread.start()
        receivers.append((receiver, got, stop, thread))
    sender = Sender()
    sender.connect(in_addr)
    messages = [{"type": "d", "n": i} for i in range(20)]
    # As in 2.11, an output nobody is connected to yet drops: probe until both are connected.
    probing = Feeder(sender, forever={"type": "probe"})
    try:
        for _, got, _, _ in receivers:
            wait_for(lambda got=got: got, "both outputs connected", procs=[proc])
        # SIGUSR1 prints the next MITE_DEBUG_MESSAGES_TO_DUMP messages, as in 2.11.
        proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: len(proc.out_path.read_text().splitlines()) >= 3, "3 dumped messages", procs=[proc])
        probing.stopping.set()
        probing.wait(procs=[proc])
        feeder = Feeder(sender, messages)
        for _, got, _, _ in receivers:
            wait_for(lambda got=got: [m for m in got if m["type"] == "d"] == messages, "both outputs", procs=[proc])
    finally:
        probing.close()
        for receiver, _, stop, thread in receivers:
            stop.set()
            thread.join(10)
            receiver.close()
    assert proc.stop() == 0, proc.output()
    totals = re.search(r"duplicator totals: received=(\d+) forwarded=(\d+) oversize=0 full=(\d+)", proc.output())
    received, forwarded, full = map(int, totals.groups())
    assert received == probing.sent + feeder.sent and forwarded + full == 2 * received
    assert proc.out_path.read_text().splitlines() == ["{'type': 'probe'}"] * 3


def test_cli_stats_function_dumps_on_a_timer(procs, tmp_path):
    in_addr, out_addr = free_address(), free_address()
    opts = opts_for("stats", f"--stats-in-socket={in_addr}", f"--stats-out-socket={out_addr}")
    proc = run_in_child(procs, "stats", "mite.cli.stats:stats", opts)
    dumps = Receiver()
    dumps.bind(out_addr)
    got = []
    dumps.add_listener(got.append)
    stop = threading.Event()
    thread = threading.Thread(target=dumps._run, args=(stop.is_set,))
    thread.start()
    sender = Sender()
    sender.bind(in_addr)

    def total(name):
        return sum(
            sum(stat["metrics"].values())
            for dump in got
            for stat in dump
            if stat.get("name") == name and "metrics" in stat
        )

    messages = [{"type": "http_metrics", "test": "t", "journey": "j", "transaction": "x",
                 "response_code": 200, "method": b"GET", "total_time": 0.01 * i,
                 "effective_url": "http://h/", "time": 1.0} for i in range(5)]
    feeder = Feeder(sender, messages)
    try:
        # The last dump comes from the timer: no later message arrives to trigger it.
        wait_for(lambda: total("mite_http_response_total") == 5, "five responses counted", procs=[proc])
    finally:
        feeder.close()
        stop.set()
        thread.join(10)
        dumps.close()
    assert proc.stop() == 0, proc.output()


def test_main_recorder_function_records(procs, tmp_path):
    address = free_address()
    opts = opts_for("recorder", f"--recorder-socket={address}", "--recorder-dir=rec")
    proc = run_in_child(procs, "recorder", "mite.__main__:recorder", opts)
    sender = Sender()
    sender.bind(address)
    feeder = Feeder(sender, [{"type": "data_created", "name": "users", "data": {"id": 7}}])
    try:
        path = tmp_path / "rec" / "users.msgpack"
        wait_for(lambda: path.exists() and read_frames(path) == [{"id": 7}], "the recorded data", procs=[proc])
    finally:
        feeder.close()
    assert proc.stop() == 0, proc.output()


class _Hook(BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.bodies.append((self.path, body))
        if self.path == "/start":
            data = b'{"newid": "run-1"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


def test_controller_webhook_functions_post_compact_json():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        logging_id = main._controller_log_start("pkg.mod:scenario", url)
        main._controller_log_end(logging_id, url + "/")
        main._controller_log_end(None, url)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert logging_id == "run-1"
    assert _Hook.bodies == [("/start", b'{"testname":"pkg.mod:scenario"}'), ("/end", b'{"id":"run-1"}')]


DOCS_PROCESSORS = """
    # The example processors of mite's docs (docs/components.rst, "Receiver"), addresses aside.
    import os
    from uuid import uuid4

    from mite import collector
    from mite.cli import stats
    from mite.zmq import Sender


    class StatsProcessor:
        def __init__(self):
            sender = Sender()
            sender.bind(os.environ["SURFACE_STATS_OUT"])
            self.stats = stats.Stats(sender=sender.send)

        def process_message(self, message):
            return self.stats.process(message)

    class CollectorProcessor:
        def __init__(self):
            self.collector = collector.Collector(collector_id=str(uuid4()))

        def process_raw_message(self, message):
            return self.collector.process_raw_message(message)

    class PrintProcessor:
        def process_message(self, message):
            print(message)
"""


def test_the_docs_custom_processors_run_in_mite_receiver(procs, tmp_path):
    write_module(tmp_path, "docs_processors", DOCS_PROCESSORS)
    receive_addr, stats_out = free_address(), free_address()
    env = dict(os.environ, SURFACE_STATS_OUT=stats_out)
    first = procs.mite("receiver", receive_addr, "--processor=docs_processors:StatsProcessor",
                       "--processor=docs_processors:CollectorProcessor", label="first", env=env)
    printer = procs.mite("receiver", stats_out, "--processor=docs_processors:PrintProcessor", label="printer")
    sender = Sender()
    sender.bind(receive_addr)
    # Stats dumps when a message arrives after its 0.25 s interval: keep them coming.
    metric = {"type": "http_metrics", "test": "t", "journey": "j", "transaction": "x",
              "response_code": 200, "method": b"GET", "total_time": 0.01, "time": 1.0}
    feeder = Feeder(sender, forever=metric)

    def printed():
        for line in printer.out_path.read_text().splitlines():
            for stat in ast.literal_eval(line):
                if stat.get("name") == "mite_http_response_total" and stat["metrics"]:
                    return stat
        return None

    try:
        stat = wait_for(printed, "a stats dump printed by the second receiver", procs=[first, printer])
        feeder.stopping.set()
        feeder.wait(procs=[first])
    finally:
        feeder.close()
    assert stat["type"] == "Counter" and "response_code" in stat["labels"]
    current = tmp_path / "collector_data" / "current"
    wait_for(lambda: current.exists() and len(read_frames(current)) == feeder.sent, "the collector's frames", procs=[first])
    assert first.stop() == 0 and printer.stop() == 0


def test_start_web_in_thread_serves_mite_web_metrics():
    import urllib.request

    port = int(free_address().rsplit(":", 1)[1])
    main.prometheus_metrics.process([{"type": "Counter", "name": "surface_total", "metrics": {("a",): 3},
                                      "labels": ("l",)}])
    thread = main._start_web_in_thread({"--web-address": f"127.0.0.1:{port}"})
    assert thread.daemon

    def fetch():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                return resp.read().decode()
        except OSError:
            return None

    body = wait_for(fetch, "the web thread's /metrics")
    assert 'surface_total {l="a"} 3' in body
