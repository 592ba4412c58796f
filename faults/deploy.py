"""Faults in a whole deployment (controller, runner, duplicator, stats, collector) against a
local HTTP target: stats killed and restarted, duplicator killed and restarted, collector
stopped for 5 s, controller interrupted. Measures responses served, `http_metrics` that reached
the collector's files, whether the test ended by itself, and who died."""

import os
import signal
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import harness
import msgpack

DURATION = 8  # seconds the scenario runs
CONCURRENCY = 4
ENDED_WITHIN = 60  # seconds after the fault for the controller and runner to end by themselves

SCENARIO = """
import asyncio

from mite.scenario import StopVolumeModel
from mite_http import mite_http

URL = {url!r}


def volume(start, end):
    if start >= {duration}:
        raise StopVolumeModel
    return {concurrency}


@mite_http
async def journey(ctx):
    async with ctx.transaction("get"):
        await ctx.http.get(URL)
    await asyncio.sleep(0.05)


def scenario():
    return [["journeys:journey", None, volume]]
"""


class Target:
    """An HTTP server on loopback answering 200 to every GET, counting the responses."""

    def __init__(self):
        target = self
        self.served = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with target.lock:
                    target.served += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def http_metrics_in(folder):
    """`http_metrics` messages in every file of a collector's folder (what msgpack reads)."""
    n = 0
    for path in Path(folder).glob("*"):
        if path.name.endswith("start_time") or not path.is_file():
            continue
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        unpacker.feed(path.read_bytes())
        try:
            for msg in unpacker:
                n += isinstance(msg, dict) and msg.get("type") == "http_metrics"
        except Exception:  # noqa: BLE001 - a torn frame: count what came before it
            pass
    return n


def stop(component, impl):
    """SIGINT, then SIGKILL: mite 2.11's components never exit on SIGINT (an executor thread)."""
    return component.stop(grace=10.0 if impl == "ours" else 3.0)


def one_run(scratch, impl, fault):
    folder = scratch / f"deploy-{fault}-{impl}"
    folder.mkdir()
    target = Target()
    (folder / "journeys.py").write_text(
        textwrap.dedent(SCENARIO).format(url=target.url, duration=DURATION, concurrency=CONCURRENCY))
    message, to_collector, to_stats, stats_out, control = (harness.free_address() for _ in range(5))
    dump_sink = harness.Puller(stats_out)
    infra = {
        "duplicator": ["duplicator", f"--message-socket={message}", to_collector, to_stats],
        "collector": ["collector", f"--collector-socket={to_collector}", "--collector-dir=out"],
        "stats": ["stats", f"--stats-in-socket={to_stats}", f"--stats-out-socket={stats_out}"],
    }
    running = {name: harness.Component(args, folder, impl=impl) for name, args in infra.items()}
    time.sleep(1.0 if impl == "ours" else 3.0)  # the reference imports slowly
    controller = harness.Component(["controller", "journeys:scenario", f"--message-socket={message}",
                                    f"--controller-socket={control}"], folder, impl=impl)
    runner = harness.Component(["runner", f"--message-socket={message}",
                                f"--controller-socket={control}"], folder, impl=impl)
    notes = []
    try:
        harness.wait_for(lambda: target.served > 50 or not runner.alive(), 60, "requests to the target")
        killed = None
        if fault in ("stats", "duplicator"):
            killed = running[fault]
            killed.proc.kill()
            killed.proc.wait()
            time.sleep(1.0)
            running[fault] = harness.Component(infra[fault], folder, impl=impl)
        elif fault == "collector":
            running["collector"].proc.send_signal(signal.SIGSTOP)
            time.sleep(5.0)
            running["collector"].proc.send_signal(signal.SIGCONT)
        elif fault == "controller":
            controller.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + ENDED_WITHIN
        while time.monotonic() < deadline and (controller.alive() or runner.alive()):
            dump_sink.drain(0.2)
        ended = not (controller.alive() or runner.alive())
        statuses = {"controller": controller.proc.poll(), "runner": runner.proc.poll()}
        if not ended:
            notes.append(f"HUNG: still running {ENDED_WITHIN} s after the fault "
                         f"({', '.join(n for n, s in statuses.items() if s is None)})")
        for c in (controller, runner):
            stop(c, impl)
        time.sleep(1.0)  # what is in flight reaches the collector
        died = [name for name, c in running.items() if not c.alive()]
        totals = {}
        for name, c in running.items():
            stop(c, impl)
            totals[name] = harness.totals(c.stderr())
    finally:
        for c in (controller, runner, *running.values()):
            if c.alive():
                c.proc.kill()
                c.proc.wait()
        dump_sink.close()
        target.close()
    served = target.served
    collected = http_metrics_in(folder / "out")
    notes.insert(0, f"ended by itself: {'yes' if ended else 'no'}; exit controller "
                    f"{statuses['controller']}, runner {statuses['runner']}")
    if impl == "ours":
        for name in ("duplicator", "stats", "collector"):
            t = totals.get(name)
            label = f"restarted {name}'s" if name == fault and fault != "collector" else f"{name}"
            notes.append(f"{label} totals: " + ("none" if t is None else
                         f"received={t['received']} dropped={t.get('dropped', 0)}"
                         + (" balanced" if harness.balanced(t, outputs=2 if name == "duplicator" else 1)
                            else " NOT balanced")))
    return served, collected, died, "; ".join(notes)


FAULTS = {
    "stats": "stats killed (SIGKILL) and restarted mid-run",
    "duplicator": "duplicator killed (SIGKILL) and restarted mid-run",
    "collector": "collector stopped (SIGSTOP) for 5 s mid-run",
    "controller": "controller interrupted (SIGINT) mid-run",
}


def deployment_faults(scratch, row, impls):
    only = [f for f in os.environ.get("FAULTS_DEPLOY", "").split(",") if f]
    for fault, label in FAULTS.items():
        if only and fault not in only:
            continue
        for impl in impls:
            served, collected, died, notes = one_run(scratch, impl, fault)
            row(f"deployment: {label}", impl, served, collected, served - collected,
                "yes (" + ", ".join(died) + ")" if died else "no", notes)
