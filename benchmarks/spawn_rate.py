"""Requests per 2-second window under the default --spawn-rate, ours beside mite 2.11.0.

The closed scenario of the spawn-limiter issue: MITE_BENCH_VOLUME (100) concurrent one-request
journeys (`bench_scenarios:http`, one transaction, one GET) against nginx for MITE_BENCH_SECONDS,
with the default `--spawn-rate` (1000/s). One runner as `mite scenario test`, and 1, 2, 4 runners
in distributed mode (`duplicator` → `collector`, `controller`, N × `runner`). Requests are the
`http_metrics` messages the collector wrote, counted per 2 s window from the first one.

    python benchmarks/spawn_rate.py --ours .venv/bin/mite --ref ~/.cache/mite-ref-venv/bin/mite
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Nginx, free_port  # noqa: E402

WINDOW = 2.0


def message_times(folder, kind="http_metrics"):
    times = []
    for path in glob.glob(str(folder / "collector_data" / "*")):
        if path.endswith("start_time"):
            continue
        with open(path, "rb") as f:
            for msg in msgpack.Unpacker(f, raw=False, strict_map_key=False):
                if isinstance(msg, dict) and msg.get("type") == kind:
                    times.append(msg["time"])
    return sorted(times)


def windows(times, seconds):
    """Requests/s in each whole 2 s window from the first message, up to the run's length."""
    if not times:
        return []
    first = times[0]
    counts = [0] * int(seconds // WINDOW)
    for t in times:
        i = int((t - first) // WINDOW)
        if i < len(counts):
            counts[i] += 1
    return [c / WINDOW for c in counts]


def _env(folder, url, seconds, volume):
    return {
        **os.environ,
        "PYTHONPATH": str(folder),
        "MITE_BENCH_URL": url,
        "MITE_BENCH_SECONDS": str(seconds),
        "MITE_BENCH_VOLUME": str(volume),
    }


def run_local(mite, url, seconds, volume):
    folder = Path(tempfile.mkdtemp(prefix="mite-spawn-bench-"))
    shutil.copy(HERE / "bench_scenarios.py", folder)
    cmd = [mite, "scenario", "test", "bench_scenarios:http", "--hide-constant-logs", "--log-level=WARNING"]
    subprocess.run(cmd, cwd=folder, env=_env(folder, url, seconds, volume), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=seconds + 120, check=True)
    times = message_times(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return times


def run_distributed(mite, url, seconds, volume, runners):
    folder = Path(tempfile.mkdtemp(prefix="mite-spawn-bench-"))
    shutil.copy(HERE / "bench_scenarios.py", folder)
    env = _env(folder, url, seconds, volume)
    ctl, msg, out = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))

    def start(*args):
        log = open(folder / f"{args[0]}-{time.monotonic_ns()}.log", "w")
        return subprocess.Popen([mite, "--log-level=WARNING", *args], cwd=folder, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    services = [
        start("duplicator", f"--message-socket={msg}", out),
        start("collector", f"--collector-socket={out}", "--collector-roll=100000000"),
    ]
    time.sleep(1.5)
    controller = start("controller", "bench_scenarios:http", f"--controller-socket={ctl}",
                       f"--message-socket={msg}")
    procs = [start("runner", f"--controller-socket={ctl}", f"--message-socket={msg}") for _ in range(runners)]
    try:
        for p in procs:
            p.wait(seconds + 60)
        controller.wait(30)
    finally:
        for p in [*procs, controller]:
            if p.poll() is None:
                p.kill()
                p.wait()
        time.sleep(2.0)  # the collector takes the last frames
        for p in services:
            p.send_signal(signal.SIGINT)
        for p in services:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    times = message_times(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(Path(sys.executable).with_name("mite")))
    ap.add_argument("--ref", default=os.path.expanduser("~/.cache/mite-ref-venv/bin/mite"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--volume", type=int, default=100)
    ap.add_argument("--runners", default="1,2,4")
    args = ap.parse_args()
    rows = []
    with Nginx() as nginx:
        modes = [("scenario test", 0)] + [(f"{n} runner(s)", int(n)) for n in args.runners.split(",")]
        for label, runners in modes:
            for name, mite in (("mite 2.11.0", args.ref), ("ours", args.ours)):
                mite = os.path.abspath(mite)
                if runners == 0:
                    times = run_local(mite, nginx.url, args.seconds, args.volume)
                else:
                    times = run_distributed(mite, nginx.url, args.seconds, args.volume, runners)
                w = windows(times, args.seconds)
                rows.append((label, name, len(times), w))
                print(f"{label:14} {name:12} {len(times):>7} requests: " + " ".join(f"{x:.0f}" for x in w),
                      file=sys.stderr)
    print("| mode | implementation | requests | requests/s in each 2 s window |")
    print("| --- | --- | ---: | --- |")
    for label, name, n, w in rows:
        print(f"| {label} | {name} | {n:,} | {' / '.join(f'{x:,.0f}' for x in w)} |")


if __name__ == "__main__":
    main()
