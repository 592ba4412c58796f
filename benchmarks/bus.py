"""Messages per second through the distributed pipeline, ours beside mite 2.11.0 in one session.

Two chains, each started fresh per implementation and round, all on loopback:
  sender → duplicator → stats → prometheus_exporter   (counted: the exporter's
                                                        mite_http_response_total)
  sender → duplicator → collector                      (counted: bytes the collector wrote)
  sender → collector                                   (`--chains direct`: one hop, the
                                                        machine's ceiling for the chain above)

The sender pushes N pre-encoded `http_metrics` frames as fast as the duplicator takes them
(`bus_sender/`, a small native program, built by this script with cargo; a pyzmq sender tops out
near 350 000 frames/s here, below what the native components take), then a small nudge frame every 0.3 s: mite 2.11's stats only dumps when a
message arrives, so without the nudges its last dump would never leave. A chain's time runs from
the first frame sent to the moment its count last grew; its rate is what arrived over that time.
What did not arrive (mite 2.11's duplicator drops when an output queue is full) is reported.

    python benchmarks/bus.py --ours .venv/bin/mite --ref ~/.cache/mite-ref-venv/bin/mite -n 300000
"""

import argparse
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import msgpack
import zmq


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frames(n):
    """`http_metrics` as a runner sends them (mite 2.11's key order), over 8 transactions."""
    out = []
    for i in range(n):
        msg = {
            "start_time": 1700000000 + i // 1000,
            "effective_url": "http://127.0.0.1:8080/",
            "response_code": 200,
            "dns_time": 1.1e-05,
            "connect_time": 9.1e-05,
            "tls_time": 0.0,
            "transfer_start_time": 0.000312,
            "first_byte_time": 0.000512,
            "total_time": 0.0005 + (i % 97) * 1e-05,
            "primary_ip": "127.0.0.1",
            "method": b"GET",
            "download_size": 2.0,
            "type": "http_metrics",
            "time": 1700000000.0 + i / 1000,
            "test": "bench:scenario",
            "runner_id": 1,
            "journey": "bench:journey",
            "context_id": i,
            "scenario_id": 1,
            "scenario_data_id": None,
            "transaction": f"txn{i % 8}",
            "transaction_id": i,
        }
        out.append(msgpack.packb(msg, use_bin_type=True))
    return out


NUDGE = msgpack.packb({"type": "nudge"}, use_bin_type=True)
HERE = Path(__file__).resolve().parent
SENDER_TARGET = Path(os.environ.get("BUS_SENDER_TARGET", Path.home() / ".cache" / "bus-sender-target"))


def build_sender():
    subprocess.run(
        ["cargo", "build", "--release", "-q", "--manifest-path", str(HERE / "bus_sender" / "Cargo.toml")],
        env={**os.environ, "CARGO_TARGET_DIR": str(SENDER_TARGET)},
        check=True,
    )
    return SENDER_TARGET / "release" / "bus-sender"


def write_frames(data, path):
    with open(path, "wb") as f:
        for frame in data:
            f.write(struct.pack("<I", len(frame)))
            f.write(frame)


class Chain:
    def __init__(self, mite, folder):
        self.mite, self.folder, self.procs = mite, folder, []

    def start(self, *args):
        log = open(self.folder / f"{args[0]}.log", "w")
        p = subprocess.Popen(
            [self.mite, "--log-level=WARNING", *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def exporter_total(url):
    try:
        body = urllib.request.urlopen(url, timeout=2).read().decode()
    except OSError:
        return 0
    return sum(float(v) for v in re.findall(r"^mite_http_response_total \{.*\} (\S+)$", body, re.M))


def collected_bytes(folder):
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file() and f.name != "current_start_time")


def run_chain(mite, data, kind, sender, frames_file, quiet=3.0):
    """Returns (arrived, seconds) for one chain of one implementation."""
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dup_in, out = free_port(), free_port()
        chain = Chain(mite, folder)
        if kind != "direct":
            chain.start("duplicator", f"--message-socket=tcp://127.0.0.1:{dup_in}", f"tcp://127.0.0.1:{out}")
        if kind == "stats":
            stats_out, web = free_port(), free_port()
            chain.start("prometheus_exporter", f"--stats-out-socket=tcp://127.0.0.1:{stats_out}", f"--web-address=127.0.0.1:{web}")
            chain.start("stats", f"--stats-in-socket=tcp://127.0.0.1:{out}", f"--stats-out-socket=tcp://127.0.0.1:{stats_out}")
            url = f"http://127.0.0.1:{web}/metrics"

            def count():
                return exporter_total(url)
        else:
            cdir = folder / "collected"
            chain.start("collector", f"--collector-socket=tcp://127.0.0.1:{out}", f"--collector-dir={cdir}", "--collector-roll=1000000000")
            frame_bytes = sum(len(f) for f in data) / len(data)

            def count():
                return round(collected_bytes(cdir) / frame_bytes) if cdir.exists() else 0
        time.sleep(2.0)  # every process up and connected
        # The direct chain has no duplicator to connect to: the sender binds the collector's socket.
        target = [f"tcp://127.0.0.1:{out}", str(frames_file), "bind"] if kind == "direct" else [f"tcp://127.0.0.1:{dup_in}", str(frames_file)]
        blaster = subprocess.Popen([str(sender), *target], stdout=subprocess.PIPE, text=True)
        started = float(blaster.stdout.readline())
        blaster.wait()
        # Nudges go through the duplicator; the direct chain has none (and needs none).
        push = None
        if kind != "direct":
            push = ctx.socket(zmq.PUSH)
            push.connect(f"tcp://127.0.0.1:{dup_in}")
        # Elapsed time is measured on the sender's clock start (wall clock, same machine).
        t0 = time.perf_counter() - (time.time() - started)
        last_n, last_t = count(), time.perf_counter()
        while time.perf_counter() - last_t < quiet:
            if push is not None:
                push.send(NUDGE)
            time.sleep(0.05)
            n = count()
            if n > last_n:
                last_n, last_t = n, time.perf_counter()
            if n >= len(data):
                break
        if push is not None:
            push.close(0)
        chain.stop()
        ctx.term()
        return last_n, last_t - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(Path(sys.executable).with_name("mite")))
    ap.add_argument("--ref", default=os.path.expanduser("~/.cache/mite-ref-venv/bin/mite"))
    ap.add_argument("-n", type=int, default=300000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--chains", default="stats,collector", help="comma-separated: stats, collector, direct")
    args = ap.parse_args()
    args.ours, args.ref = os.path.abspath(args.ours), os.path.abspath(args.ref)
    data = frames(args.n)
    sender = build_sender()
    frames_file = Path(tempfile.mkdtemp(prefix="mite-bus-")) / "frames.bin"
    write_frames(data, frames_file)
    print(f"{args.n} http_metrics frames of ~{sum(map(len, data)) // len(data)} bytes; {os.cpu_count()} CPUs", file=sys.stderr)
    rows = []
    for r in range(args.repeat):
        for kind in args.chains.split(","):
            for name, mite in (("ours", args.ours), ("mite 2.11.0", args.ref)):
                arrived, secs = run_chain(mite, data, kind, sender, frames_file)
                rate = arrived / secs if secs > 0 else 0
                lost = max(0, round(args.n - arrived))
                rows.append((r + 1, kind, name, int(arrived), secs, rate, lost))
                print(f"round {r + 1} {kind:9} {name:12} {int(arrived):>8} in {secs:6.2f}s = {rate:>9.0f}/s  missing {int(lost)}", file=sys.stderr)
    shutil.rmtree(frames_file.parent, ignore_errors=True)
    print("| round | chain | implementation | arrived | seconds | messages/s | missing |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for r, kind, name, n, secs, rate, lost in rows:
        chain = {"stats": "duplicator → stats → exporter", "collector": "duplicator → collector", "direct": "collector alone"}[kind]
        print(f"| {r} | {chain} | {name} | {n:,} | {secs:.2f} | {rate:,.0f} | {lost:,} |")


if __name__ == "__main__":
    main()
