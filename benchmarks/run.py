"""Runs each benchmark under this mite and under mite 2.11.0, side by side, and prints a table.

Usage: python benchmarks/run.py [--ours PATH_TO_MITE] [--ref PATH_TO_MITE] [--repeat N]
Each run happens in a fresh temporary folder; the figures come from the messages the collector
wrote (both implementations write the same files) and from the child's rusage.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))


def count_messages(folder):
    """(journeys finished, messages, first time, last time) from every collector file."""
    journeys = messages = 0
    first, last = float("inf"), 0.0
    files = [f for f in glob.glob(os.path.join(folder, "collector_data", "*")) if not f.endswith("start_time")]
    for path in files:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        with open(path, "rb") as f:
            unpacker.feed(f.read())
        for msg in unpacker:
            messages += 1
            t = msg.get("time", 0)
            first, last = min(first, t), max(last, t)
            if msg.get("type") == "txn" and msg.get("transaction") == "__root__":
                journeys += 1
    return journeys, messages, first, last


def run_once(mite, scenario, env_extra, extra_args=()):
    folder = tempfile.mkdtemp(prefix="mite-bench-")
    shutil.copy(os.path.join(HERE, "bench_scenarios.py"), folder)
    env = {**os.environ, **env_extra, "PYTHONPATH": folder}
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [mite, "scenario", "test", f"bench_scenarios:{scenario}", "--spawn-rate=100000000",
             "--hide-constant-logs", "--log-level=WARNING", *extra_args],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN's maxrss is the max of all children).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{mite} failed ({proc.returncode}):\n{err.read()[-2000:]}")
    journeys, messages, first, last = count_messages(folder)
    shutil.rmtree(folder)
    return {
        "journeys": journeys,
        "messages": messages,
        "span": last - first,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=shutil.which("mite"))
    ap.add_argument("--ref", default="/work/ref-venv/bin/mite")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", default="10")
    args = ap.parse_args()
    impls = [("mite 2.11.0", args.ref), ("this mite", args.ours)]

    print(f"## journeys per second (1 transaction + 1 message, 200 concurrent, {args.seconds} s)\n")
    print("| run | implementation | journeys | messages | journeys/s | CPU s |")
    print("|---|---|---|---|---|---|")
    best = {}
    for i in range(args.repeat):
        for name, mite in impls:
            r = run_once(mite, "journeys", {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "200"})
            rate = r["journeys"] / r["span"]
            best[name] = max(best.get(name, 0), rate)
            print(f"| {i + 1} | {name} | {r['journeys']} | {r['messages']} | {rate:,.0f} | {r['cpu']:.1f} |")
    print(f"\nbest of {args.repeat}: ratio {best['this mite'] / best['mite 2.11.0']:.1f}x\n")

    print("## 10 000 concurrent sleeping journeys (each sleeps 5 s in a transaction, 20 s run)\n")
    print("| run | implementation | journeys | CPU s | max RSS MB |")
    print("|---|---|---|---|---|")
    for i in range(args.repeat):
        for name, mite in impls:
            env = {"MITE_BENCH_SECONDS": "20", "MITE_BENCH_VOLUME": "10000", "MITE_BENCH_SLEEP": "5"}
            r = run_once(mite, "sleepers", env)
            print(f"| {i + 1} | {name} | {r['journeys']} | {r['cpu']:.1f} | {r['rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
