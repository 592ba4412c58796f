"""End-to-end request rate of one controller + one runner against nginx, ours beside mite 2.11.0.

Per implementation and round: nginx (benchmarks/nginx.conf.template) on a free loopback port,
then `mite duplicator` → `mite collector`, `mite controller bench_scenarios:http` and one
`mite runner`, all of that implementation, for MITE_BENCH_SECONDS at MITE_BENCH_VOLUME journeys
(mite's perf journey: one transaction, one GET). Requests are the `http_metrics` messages the
collector wrote, over the span of their timestamps.

    python benchmarks/distributed.py --ours .venv/bin/mite --ref ~/.cache/mite-ref-venv/bin/mite
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Nginx, count_messages, free_port  # noqa: E402


def run_once(mite, url, seconds, volume):
    folder = Path(tempfile.mkdtemp(prefix="mite-dist-bench-"))
    shutil.copy(HERE / "bench_scenarios.py", folder)
    env = {
        **os.environ,
        "PYTHONPATH": str(folder),
        "MITE_BENCH_URL": url,
        "MITE_BENCH_SECONDS": str(seconds),
        "MITE_BENCH_VOLUME": str(volume),
    }
    ctl, msg, out = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))
    common = ["--log-level=WARNING"]

    def start(*args):
        log = open(folder / f"{args[0]}.log", "w")
        return subprocess.Popen([mite, *common, *args], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)

    services = [
        start("duplicator", f"--message-socket={msg}", out),
        start("collector", f"--collector-socket={out}", "--collector-roll=100000000"),
    ]
    time.sleep(1.5)
    controller = start("controller", "bench_scenarios:http", f"--controller-socket={ctl}", f"--message-socket={msg}", "--spawn-rate=100000000")
    runner = start("runner", f"--controller-socket={ctl}", f"--message-socket={msg}")
    try:
        runner.wait(seconds + 60)
        controller.wait(30)
    finally:
        for p in (runner, controller):
            if p.poll() is None:
                p.kill()
        time.sleep(2.0)  # the collector takes the last frames
        for p in services:
            p.send_signal(signal.SIGINT)
        for p in services:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    requests, _, first, last = count_messages(str(folder), "http_metrics")
    shutil.rmtree(folder, ignore_errors=True)
    return requests, last - first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(Path(sys.executable).with_name("mite")))
    ap.add_argument("--ref", default=os.path.expanduser("~/.cache/mite-ref-venv/bin/mite"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--volume", type=int, default=100)
    args = ap.parse_args()
    rows = []
    with Nginx() as nginx:
        for r in range(args.repeat):
            for name, mite in (("ours", args.ours), ("mite 2.11.0", args.ref)):
                n, span = run_once(os.path.abspath(mite), nginx.url, args.seconds, args.volume)
                rate = n / span if span > 0 else 0
                rows.append((r + 1, name, n, span, rate))
                print(f"round {r + 1} {name:12} {n:>8} requests over {span:6.2f}s = {rate:>8.0f}/s", file=sys.stderr)
    print("| round | implementation | requests | span (s) | requests/s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for r, name, n, span, rate in rows:
        print(f"| {r} | {name} | {n:,} | {span:.2f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
