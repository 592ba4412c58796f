"""Runs each benchmark under this mite and under mite 2.11.0, side by side, and prints a table.

Usage: python benchmarks/run.py [--ours PATH_TO_MITE] [--ref PATH_TO_MITE] [--repeat N]
Each run happens in a fresh temporary folder; the figures come from the messages the collector
wrote (both implementations write the same files) and from the child's rusage.
"""

import argparse
import glob
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx on loopback from benchmarks/nginx.conf.template, in a temporary folder."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="mite-nginx-")
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf.template")) as f:
            conf = f.read().replace("@DIR@", self.dir).replace("@PORT@", str(self.port))
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", path, "-p", self.dir])
        time.sleep(0.5)
        self.url = f"http://127.0.0.1:{self.port}/"
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(url, seconds, connections=100):
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return float("nan")


def count_messages(folder, kind="txn"):
    """(journeys finished, messages, first time, last time) from every collector file."""
    journeys = messages = 0
    first, last = float("inf"), 0.0
    files = [f for f in glob.glob(os.path.join(folder, "collector_data", "*")) if not f.endswith("start_time")]
    for path in files:
        # Streamed: a file can exceed msgpack's 100 MiB buffer for `feed`.
        with open(path, "rb") as f:
            for msg in msgpack.Unpacker(f, raw=False, strict_map_key=False):
                messages += 1
                t = msg.get("time", 0)
                first, last = min(first, t), max(last, t)
                if kind == "txn":
                    journeys += msg.get("type") == "txn" and msg.get("transaction") == "__root__"
                else:
                    journeys += msg.get("type") == kind
    return journeys, messages, first, last


# --progress: stderr is a pseudo-terminal (drained by a thread), so the live status area is drawn.
PROGRESS = False


def _run_on_a_terminal(cmd, cwd, env):
    master, slave = pty.openpty()
    tail = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            tail[:] = (tail + chunk)[-4000:]

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    proc.stderr = tail.decode(errors="replace")
    return proc


def run_once(mite, scenario, env_extra, extra_args=(), kind="txn"):
    folder = tempfile.mkdtemp(prefix="mite-bench-")
    shutil.copy(os.path.join(HERE, "bench_scenarios.py"), folder)
    env = {**os.environ, **env_extra, "PYTHONPATH": folder}
    start = time.monotonic()
    stats = os.path.join(folder, "rusage")
    # GNU time forks the command from its own small process: ru_maxrss taken from this (large)
    # script's fork would count the parent's pages copied before exec.
    cmd = ["/usr/bin/time", "-o", stats, "-f", "%U %S %M", mite, "scenario", "test",
           f"bench_scenarios:{scenario}", "--spawn-rate=100000000", "--hide-constant-logs",
           "--log-level=WARNING", *extra_args]
    if PROGRESS:
        cmd.remove("--hide-constant-logs")
        proc = _run_on_a_terminal(cmd, folder, {**env, "TERM": "xterm"})
    else:
        proc = subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{mite} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    with open(stats) as f:
        user, system, max_kb = f.read().split()[-3:]
    journeys, messages, first, last = count_messages(folder, kind)
    shutil.rmtree(folder)
    return {
        "journeys": journeys,
        "messages": messages,
        "span": last - first,
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss_mb": int(max_kb) / 1024,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=shutil.which("mite"))
    ap.add_argument("--ref", default=os.path.join(
        os.environ.get("MITE_REF_VENV") or os.path.expanduser("~/.cache/mite-ref-venv"), "bin", "mite"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", default="10")
    ap.add_argument("--http", action="store_true", help="also the HTTP benchmark (needs nginx and wrk)")
    ap.add_argument("--http-only", action="store_true", help="only the HTTP benchmark")
    ap.add_argument("--before", help="another build of this mite to run beside (e.g. the previous one)")
    ap.add_argument("--progress", action="store_true",
                    help="stderr on a pseudo-terminal and no --hide-constant-logs: the live status area is drawn")
    args = ap.parse_args()
    global PROGRESS
    PROGRESS = args.progress
    # Absolute: every run starts in a fresh temporary folder.
    impls = [("mite 2.11.0", os.path.abspath(args.ref)), ("this mite", os.path.abspath(args.ours))]
    if args.before:
        impls.insert(1, ("before", os.path.abspath(args.before)))
    if args.http_only:
        http_section(impls, args)
        return

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
    if "before" in best:
        print(f"this mite / before: {best['this mite'] / best['before']:.2f}x\n")

    if args.http:
        http_section(impls, args)

    print("## 10 000 concurrent sleeping journeys (each sleeps 5 s in a transaction, 20 s run)\n")
    print("| run | implementation | journeys | CPU s | max RSS MB |")
    print("|---|---|---|---|---|")
    for i in range(args.repeat):
        for name, mite in impls:
            env = {"MITE_BENCH_SECONDS": "20", "MITE_BENCH_VOLUME": "10000", "MITE_BENCH_SLEEP": "5"}
            r = run_once(mite, "sleepers", env)
            print(f"| {i + 1} | {name} | {r['journeys']} | {r['cpu']:.1f} | {r['rss_mb']:.0f} |")


def http_section(impls, args):
    """mite's perf journey (@mite_http, one transaction, one GET) at 100 concurrent."""
    with Nginx() as nginx:
        ceiling = wrk(nginx.url, args.seconds)
        print(f"## HTTP: @mite_http journey, one GET, 100 concurrent, {args.seconds} s, nginx on loopback\n")
        print(f"wrk -t1 -c100 against the same nginx: {ceiling:,.0f} requests/s (the ceiling)\n")
        print("| run | implementation | requests | requests/s | CPU s | CPU µs / request | max RSS MB |")
        print("|---|---|---|---|---|---|---|")
        best = {}
        for i in range(args.repeat):
            for name, mite in impls:
                env = {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "100", "MITE_BENCH_URL": nginx.url}
                r = run_once(mite, "http", env, kind="http_metrics")
                rate = r["journeys"] / r["span"]
                best[name] = max(best.get(name, 0), rate)
                per = r["cpu"] / max(r["journeys"], 1) * 1e6
                print(f"| {i + 1} | {name} | {r['journeys']} | {rate:,.0f} | {r['cpu']:.1f} | {per:.0f} | {r['rss_mb']:.0f} |")
        print(f"\nbest of {args.repeat}: ratio {best['this mite'] / best['mite 2.11.0']:.1f}x\n")
        if "before" in best:
            print(f"this mite / before: {best['this mite'] / best['before']:.2f}x\n")


if __name__ == "__main__":
    main()
