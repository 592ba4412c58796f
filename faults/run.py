"""The fault campaign, rerunnable: bad frames on every socket, hostile HTTP against the exporter,
a full disk under the collector, a runner killed mid-send; ours beside mite 2.11.0. Prints a
Markdown table of sent / accounted / lost / died per experiment (`make faults`)."""

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import exposure
import harness

import deploy

IMPLS = [i for i in ("ours", "ref") if harness.MITES[i].exists()]
ROWS = []


def row(experiment, impl, sent, accounted, lost, died, note=""):
    ROWS.append((experiment, impl, sent, accounted, lost, died, note))
    print(f"  {experiment} [{impl}]: sent={sent} accounted={accounted} lost={lost} died={died} {note}",
          file=sys.stderr, flush=True)


def bad_frames(n=10_000, seed=7):
    """Random bytes, truncated messages, wrong shapes, reserved extension types."""
    rnd = random.Random(seed)
    good = harness.pack({"type": "m", "name": "x", "data": [1, 2, 3], "payload": "p" * 40})
    makers = [
        lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 64))),
        lambda: good[: rnd.randint(1, len(good) - 1)],
        lambda: harness.pack([1, 2, 3]),
        lambda: b"\xd4\x80\x00",
        lambda: b"\xc1",
    ]
    return [makers[i % len(makers)]() for i in range(n)]


COMPONENTS = {
    # name: (args given the input address and a spare address, whether it binds its input)
    "duplicator": (lambda a, b: ["duplicator", f"--message-socket={a}", b], False),
    "stats": (lambda a, b: ["stats", f"--stats-in-socket={a}", f"--stats-out-socket={b}"], True),
    "collector": (lambda a, b: ["collector", f"--collector-socket={a}", "--collector-dir=out"], True),
    "recorder": (lambda a, b: ["recorder", f"--recorder-socket={a}", "--recorder-dir=rec"], True),
    "exporter": (lambda a, b: ["prometheus_exporter", f"--stats-out-socket={a}",
                               f"--web-address=127.0.0.1:{harness.free_port()}"], False),
}


def frame_floods(scratch):
    frames = bad_frames()
    big = b"\xc6" + (100 << 20).to_bytes(4, "big") + b"\0" * (100 << 20)  # 100 MB bin
    good = [harness.pack({"type": "data_created", "name": "pool", "data": i}) for i in range(100)]
    for name, (args, we_bind) in COMPONENTS.items():
        for impl in IMPLS:
            a, b = harness.free_address(), harness.free_address()
            folder = scratch / f"{name}-{impl}"
            folder.mkdir()
            # The duplicator binds its outputs; stats connects its output.
            sink = harness.Puller(b, bind=name == "stats") if name in ("duplicator", "stats") else None
            c = harness.Component(args(a, b), folder, impl=impl)
            push = harness.Pusher(a, bind=we_bind)
            time.sleep(0.5 if impl == "ours" else 2.0)  # connect before sending (PUSH drops nothing, but ref starts slowly)
            sent = frames + [big] + good
            queued = push.send(sent)
            push.close()
            # Let it work through the flood (a campaign, not a test: it reports what it sees).
            for _ in range(20):
                if sink:
                    sink.drain(0.1)
                else:
                    time.sleep(0.1)
            died = not c.alive()
            c.stop()
            if sink:
                sink.close()
            counts = harness.totals(c.stderr())
            if counts is None:
                row(f"{len(sent):,} bad+good frames to {name}", impl, len(sent), "-",
                    f">= {len(sent) - queued}" if queued < len(sent) else "-",
                    "yes" if died else "no",
                    "no totals line" + (f"; took {queued} frames, then none" if queued < len(sent)
                                        else ""))
                continue
            ok = harness.balanced(counts, outputs=1)
            row(f"{len(sent):,} bad+good frames to {name}", impl, len(sent), counts["received"],
                len(sent) - counts["received"], "yes" if died else "no",
                "totals balanced" if ok else f"totals NOT balanced: {counts}")


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            return r.status
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


def http_status(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before taking it all: read the answer
        try:
            reply = s.recv(200)
        except OSError as e:
            return type(e).__name__
    return reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/") else repr(reply[:20])


def exporter_http(scratch):
    for impl in IMPLS:
        port = harness.free_port()
        c = harness.Component(["prometheus_exporter", f"--stats-out-socket={harness.free_address()}",
                               f"--web-address=127.0.0.1:{port}"], scratch, impl=impl)
        harness.wait_for(lambda port=port: scrape(port) == 200, 30, "the exporter")
        rss0, thr0 = c.rss_kb(), c.threads()
        statuses = {
            "HTTP/9.9": http_status(port, b"GET /metrics HTTP/9.9\r\n\r\n"),
            "no colon": http_status(port, b"GET /metrics HTTP/1.1\r\nnocolon\r\n\r\n"),
            "10 MB URL": http_status(port, b"GET /" + b"a" * (10 << 20) + b" HTTP/1.1\r\n\r\n"),
        }
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            try:
                for _ in range(200):
                    s.sendall(b"A" * (1 << 20))
            except OSError:
                pass
        rss_line = c.rss_kb() if c.alive() else 0
        conns = []
        try:
            for _ in range(5000):
                conns.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        except OSError:
            pass
        time.sleep(1)
        during = scrape(port)
        rss_idle, thr_idle = (c.rss_kb(), c.threads()) if c.alive() else (0, 0)
        for s in conns:
            s.close()
        after = scrape(port)
        died = not c.alive()
        c.stop()
        note = (f"RSS {rss0 // 1024} MB → {rss_line // 1024} MB after a 200 MB request line → "
                f"{rss_idle // 1024} MB with {len(conns)} idle connections; threads {thr0} → "
                f"{thr_idle}; scrape during/after: {during}/{after}; "
                + ", ".join(f"{k}: {v}" for k, v in statuses.items()))
        row("hostile HTTP to the exporter", impl, "-", "-", "-", "yes" if died else "no", note)


def _settled(path, component, quiet=2.0, limit=60.0):
    """Waits until `path` has not grown for `quiet` seconds (or the component died)."""
    deadline = time.monotonic() + limit
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline and component.alive():
        now_size = path.stat().st_size if path.exists() else 0
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def full_disk(scratch):
    for impl in IMPLS:
        address = harness.free_address()
        with harness.tiny_disk("1m") as disk:
            c = harness.Component(["collector", f"--collector-socket={address}",
                                   f"--collector-dir={disk / 'out'}"], scratch, impl=impl)
            push = harness.Pusher(address, bind=True)
            # Both create `current` at start; on a loaded host mite 2.11 takes seconds to get there.
            harness.wait_for(lambda disk=disk, c=c: (disk / "out" / "current").exists() or not c.alive(),
                             60, "the collector to start")
            time.sleep(0.5)
            sent = [harness.pack({"type": "filler", "i": i, "payload": "x" * 1000}) for i in range(3000)]
            push.send(sent)
            push.close()
            _settled(disk / "out" / "current", c)
            died = not c.alive()
            status = c.stop()
            log = c.stderr()
            frames, clean = harness.read_frames(disk / "out" / "current")
        counts = harness.totals(log) or {}
        errors = sum("ERROR" in line for line in log.splitlines())
        accounted = counts.get("written", 0) + counts.get("full", 0) if counts else "-"
        row("collector on a full 1 MB disk", impl, len(sent), accounted, len(sent) - len(frames),
            "yes" if died else "no",
            f"exit {status}; {errors} ERROR lines; {len(frames)} frames readable; "
            f"{'no torn frame' if clean else 'TORN last frame'}")


CHILD_OURS = """
import os, signal, sys, time
from mite import _native
p = _native.LocalPipeline(collector_dir=None, recorder_dir=None, console=False,
                          log_messages=False, forward=sys.argv[1])
for i in range(int(sys.argv[2])):
    p.sink.send({"type": "http_metrics", "i": i})
    time.sleep(0.002)
time.sleep(0.02)
os.kill(os.getpid(), signal.SIGKILL)
"""

CHILD_REF = """
import os, signal, sys, time
from mite.zmq import Sender
s = Sender(); s.connect(sys.argv[1])
for i in range(int(sys.argv[2])):
    s.send({"type": "http_metrics", "i": i})
    time.sleep(0.002)
time.sleep(0.02)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_runner(scratch):
    """A runner's sender producing ~500 messages/s, killed 20 ms after its last message."""
    n = 500
    pythons = {"ours": sys.executable, "ref": str(harness.REF_VENV / "bin" / "python")}
    for impl in IMPLS:
        lost = []
        for _ in range(5):
            address = harness.free_address()
            pull = harness.Puller(address)
            child = harness.popen([pythons[impl], "-c", CHILD_OURS if impl == "ours" else CHILD_REF,
                                   address, str(n)], cwd=scratch)
            child.wait(60)
            lost.append(n - len(pull.drain(1.0)))
            pull.close()
        row("runner's sender killed (SIGKILL) 20 ms after its last message, 5 times", impl,
            n * 5, n * 5 - sum(lost), sum(lost), "-", f"lost per run: {lost}")


def deployment_faults(scratch):
    deploy.deployment_faults(scratch, row, IMPLS)


def hostile_names(scratch):
    exposure.hostile_names(scratch, row, IMPLS)


def default_binds(scratch):
    exposure.default_binds(scratch, row, IMPLS)


def main():
    harness.clean_up_on_exit()
    scratch = Path(os.environ.get("FAULTS_SCRATCH") or "/tmp/mite-faults")
    subprocess.run(["rm", "-rf", str(scratch)], check=False)
    scratch.mkdir(parents=True)
    print(f"implementations: {', '.join(IMPLS)}; scratch: {scratch}", file=sys.stderr)
    only = os.environ.get("FAULTS_ONLY", "").split(",")
    experiments = (frame_floods, exporter_http, full_disk, killed_runner, deployment_faults,
                   hostile_names, default_binds)
    for experiment in experiments:
        if only != [""] and experiment.__name__ not in only:
            continue
        print(f"{experiment.__name__} ...", file=sys.stderr, flush=True)
        experiment(scratch)
    print("| experiment | mite | sent | accounted | lost | died | notes |")
    print("|---|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(str(x) for x in r) + " |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
