"""Latency honesty: what mite reports against a server that answers after a fixed delay, beside
what wrk measures against the same server at the same concurrency.

Usage: python benchmarks/latency.py [--delay-ms 10] [--concurrency 20] [--seconds 10]
                                    [--repeat N] NAME=MITE ...
e.g.   python benchmarks/latency.py --repeat 2 ours=.venv/bin/mite ref=REF/bin/mite

Each round runs wrk (`wrk -t1 -cN --latency`), then every mite given (mite's perf journey,
`bench_scenarios:http`, N concurrent, `--report`), against one `delay_server.py`. The p50 and
p99 of wrk's latency distribution and of mite's report table are printed with their difference
from wrk's.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import free_port  # noqa: E402


def ms(text):
    """'10.21ms' / '812.00us' / '1.02s' -> milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(url, connections, seconds):
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    return ms(found["50"]), ms(found["99"])


def mite(binary, url, connections, seconds):
    folder = tempfile.mkdtemp(prefix="mite-latency-")
    try:
        shutil.copy(os.path.join(HERE, "bench_scenarios.py"), folder)
        env = {
            **os.environ,
            "PYTHONPATH": folder,
            "MITE_BENCH_SECONDS": str(seconds),
            "MITE_BENCH_VOLUME": str(connections),
            "MITE_BENCH_URL": url,
        }
        cmd = [binary, "scenario", "test", "bench_scenarios:http", "--spawn-rate=100000000",
               "--hide-constant-logs", "--log-level=WARNING", "--report"]
        out = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{binary} failed ({out.returncode}):\n{out.stderr[-2000:]}")
        text = out.stdout + out.stderr
        header = next(line for line in text.splitlines() if "50 %tile" in line)
        row = next(line for line in text.splitlines() if line.startswith("| Latency"))
        names = [c.strip() for c in header.strip("|").split("|")]
        cells = [c.strip() for c in row.strip("|").split("|")]
        table = dict(zip(names, cells, strict=True))
        return ms(table["50 %tile"]), ms(table["99 %tile"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay-ms", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("impls", nargs="+", help="NAME=MITE")
    args = ap.parse_args()
    # Absolute: every run starts in a fresh temporary folder.
    impls = [(name, os.path.abspath(path)) for name, path in (s.split("=", 1) for s in args.impls)]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "delay_server.py"), str(port), str(args.delay_ms)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        time.sleep(0.5)
        print(f"delay {args.delay_ms:g} ms, {args.concurrency} concurrent, {args.seconds} s each\n")
        print("| round | client | p50 ms | p99 ms | p50 vs wrk | p99 vs wrk |")
        print("|---|---|---|---|---|---|")
        for i in range(args.repeat):
            w50, w99 = wrk(url, args.concurrency, args.seconds)
            print(f"| {i + 1} | wrk | {w50:.2f} | {w99:.2f} | | |", flush=True)
            for name, binary in impls:
                p50, p99 = mite(binary, url, args.concurrency, args.seconds)
                print(f"| {i + 1} | {name} | {p50:.2f} | {p99:.2f} | {(p50 / w50 - 1) * 100:+.1f}% "
                      f"| {(p99 / w99 - 1) * 100:+.1f}% |", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
