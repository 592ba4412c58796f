"""Where an HTTP run's CPU goes, per thread: runs mite's perf journey (`bench_scenarios:http`,
100 concurrent) against nginx on loopback and reports requests/s and CPU µs per request for each
thread of the mite process (the loop thread `mite`, the libcurl thread `mite-http`, the message
pipeline `mite-pipeline`), measured over the middle of the run from /proc/PID/task/*/stat.

Usage: python benchmarks/http_threads.py [--repeat N] [--seconds S] NAME=MITE[,ENV=VALUE...] ...
e.g.   python benchmarks/http_threads.py --repeat 3 ours=.venv/bin/mite \\
           noyield=.venv/bin/mite,MITE_HTTP_YIELD=0 ref=~/.cache/mite-ref-venv/bin/mite
Each repeat runs every implementation once, in the order given (alternating).
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
sys.path.insert(0, HERE)
from run import Nginx  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def threads(pid):
    """{tid: (name, cpu ticks)} of a live process."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(task + "/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[task.rsplit("/", 1)[1]] = (name, int(fields[11]) + int(fields[12]))
    return out


def process_ticks(pid):
    """CPU ticks of a process and its children (nginx: the master and its worker)."""
    total = 0
    for stat_path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat_path) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        this = int(stat_path.split("/")[2])
        if this == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


def requests_between(folder, start, end):
    n = 0
    for path in glob.glob(os.path.join(folder, "collector_data", "*")):
        if path.endswith("start_time"):
            continue
        with open(path, "rb") as f:  # streamed: a file can exceed msgpack's feed buffer
            unpacker = msgpack.Unpacker(f, raw=False, strict_map_key=False)
            n += sum(1 for m in unpacker if m.get("type") == "http_metrics" and start <= m.get("time", 0) <= end)
    return n


def run_once(mite, env_extra, nginx, seconds):
    url = nginx.url
    folder = tempfile.mkdtemp(prefix="mite-threads-")
    shutil.copy(os.path.join(HERE, "bench_scenarios.py"), folder)
    env = {
        **os.environ,
        **env_extra,
        "PYTHONPATH": folder,
        "MITE_BENCH_SECONDS": str(seconds),
        "MITE_BENCH_VOLUME": "100",
        "MITE_BENCH_URL": url,
    }
    cmd = [mite, "scenario", "test", "bench_scenarios:http", "--spawn-rate=100000000",
           "--hide-constant-logs", "--log-level=WARNING"]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The middle of the run: after start-up, before the volume model stops.
    time.sleep(2)
    before, t0, nginx_before = threads(proc.pid), time.time(), process_ticks(nginx.proc.pid)
    time.sleep(seconds - 4)
    after, t1, nginx_after = threads(proc.pid), time.time(), process_ticks(nginx.proc.pid)
    _, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{mite} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    n = requests_between(folder, t0, t1)
    shutil.rmtree(folder)
    per_thread = {}
    for tid, (name, ticks) in after.items():
        if tid in before:
            per_thread[name] = per_thread.get(name, 0) + ticks - before[tid][1]
    per_request = {name: ticks / TICK / max(n, 1) * 1e6 for name, ticks in per_thread.items()}
    return n / (t1 - t0), per_request, (nginx_after - nginx_before) / TICK / max(n, 1) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("impls", nargs="+", help="NAME=MITE[,ENV=VALUE...]")
    args = ap.parse_args()
    impls = []
    for spec in args.impls:
        name, rest = spec.split("=", 1)
        mite, *envs = rest.split(",")
        mite = os.path.abspath(mite)  # every run starts in a fresh temporary folder
        impls.append((name, mite, dict(e.split("=", 1) for e in envs)))
    print("| run | implementation | requests/s | loop thread µs/req | libcurl thread µs/req | pipeline µs/req "
          "| other threads | mite total µs/req | nginx µs/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    with Nginx() as nginx:
        for i in range(args.repeat):
            for name, mite, env in impls:
                rate, us, nginx_us = run_once(mite, env, nginx, args.seconds)
                loop = us.pop("mite", 0.0)
                http = us.pop("mite-http", None)
                pipeline = us.pop("mite-pipeline", None)
                other = sum(us.values())
                total = loop + (http or 0) + (pipeline or 0) + other

                def cell(v):
                    return "—" if v is None else f"{v:.1f}"

                print(f"| {i + 1} | {name} | {rate:,.0f} | {loop:.1f} | {cell(http)} | {cell(pipeline)} "
                      f"| {other:.1f} | {total:.1f} | {nginx_us:.1f} |", flush=True)


if __name__ == "__main__":
    main()
