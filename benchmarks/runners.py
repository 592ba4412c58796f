"""Requests/s and CPU per request of one local run with `--runners=1`, `2` and `auto`, beside
mite 2.11.0 in distributed mode with 1 and 2 `mite runner`s started by hand, in one session.

The target is `delay_target/` (built here with cargo): a one-thread tokio server answering each
request 10 ms after it arrived, over keep-alive connections, so the request rate is bounded by
the client (VOLUME journeys / 10 ms far above what the runners reach) and the target's own CPU
per request is a few microseconds. Each configuration runs `bench_scenarios:http` (mite's perf
journey: one transaction, one GET) at VOLUME concurrent journeys for SECONDS; requests are the
`http_metrics` messages in the collector folder over the span of their timestamps. CPU is user +
system of every mite process of the run (GNU time over the command; it includes the children a
process waited for: `--runners=N`'s runner processes, each hand-started component's own).

    python benchmarks/runners.py --ours ~/.cache/runners-rel-venv/bin/mite \
        --ref ~/.cache/mite-ref-venv/bin/mite --repeat 2
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

from run import count_messages, free_port  # noqa: E402

TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "runners-bench-target"))
COMMON = ["--log-level=WARNING", "--spawn-rate=100000000"]


def build_target():
    subprocess.run(
        ["cargo", "build", "--release", "-q", "--manifest-path", str(HERE / "delay_target" / "Cargo.toml")],
        check=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR)},
    )
    return TARGET_DIR / "release" / "delay-target"


def _folder(url, seconds, volume):
    folder = Path(tempfile.mkdtemp(prefix="mite-runners-bench-"))
    shutil.copy(HERE / "bench_scenarios.py", folder)
    env = {
        **os.environ,
        "PYTHONPATH": str(folder),
        "MITE_BENCH_URL": url,
        "MITE_BENCH_SECONDS": str(seconds),
        "MITE_BENCH_VOLUME": str(volume),
    }
    return folder, env


def _timed(cmd, folder, name, env):
    log = open(folder / f"{name}.log", "w")
    stats = folder / f"{name}.time"
    return subprocess.Popen(
        ["/usr/bin/time", "-o", str(stats), "-f", "%U %S", *cmd],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _signal(proc, signum):
    """Signals the mite process under GNU time (time neither passes signals on nor survives
    SIGINT itself, and then writes no figures)."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        for pid in children:
            os.kill(int(pid), signum)
    except (FileNotFoundError, ProcessLookupError):
        pass


def _cpu(folder):
    total = 0.0
    for f in folder.glob("*.time"):
        user, system = f.read_text().split()[-2:]
        total += float(user) + float(system)
    return total


def _result(folder):
    requests, _, first, last = count_messages(str(folder), "http_metrics")
    cpu = _cpu(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return requests, last - first, cpu


TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _cpu_of(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def local(mite, runners, url, seconds, volume):
    """`mite scenario test --runners=N`: everything in one command. The parent's and the runner
    processes' own CPU are sampled from /proc every 0.1 s (the last sample before each exits)."""
    folder, env = _folder(url, seconds, volume)
    cmd = [mite, "scenario", "test", "bench_scenarios:http", f"--runners={runners}", "--hide-constant-logs", *COMMON]
    proc = _timed(cmd, folder, "local", env)
    last = {}
    parent = None
    while proc.poll() is None:
        time.sleep(0.1)
        parent = parent or next(iter(_children(proc.pid)), None)
        if parent is None:
            continue
        for pid in (parent, *_children(parent)):
            cpu = _cpu_of(pid)
            if cpu is not None:
                last[pid] = cpu
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}: {(folder / 'local.log').read_text()[-2000:]}")
    parent_cpu = last.pop(parent, 0.0)
    return (*_result(folder), parent_cpu, sum(last.values()))


def distributed(mite, runners, url, seconds, volume):
    """mite 2.11's way: duplicator, collector, controller and N runners started by hand."""
    folder, env = _folder(url, seconds, volume)
    ctl, msg, out = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))
    services = [
        _timed([mite, "duplicator", f"--message-socket={msg}", out, *COMMON], folder, "duplicator", env),
        _timed([mite, "collector", f"--collector-socket={out}", "--collector-roll=100000000"], folder, "collector", env),
    ]
    time.sleep(3.0)  # the collector connects before any message is sent (a loaded host is slow)
    controller = _timed(
        [mite, "controller", "bench_scenarios:http", f"--controller-socket={ctl}", f"--message-socket={msg}", *COMMON],
        folder,
        "controller",
        env,
    )
    workers = [
        _timed([mite, "runner", f"--controller-socket={ctl}", f"--message-socket={msg}", *COMMON], folder, f"runner{i}", env)
        for i in range(runners)
    ]
    try:
        for p in workers:
            p.wait(seconds + 120)
        controller.wait(60)
    finally:
        for p in (*workers, controller):
            if p.poll() is None:
                _signal(p, signal.SIGKILL)
                p.wait()
        time.sleep(2.0)  # the collector takes the last frames
        for p in services:
            _signal(p, signal.SIGINT)
        for p in services:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                _signal(p, signal.SIGKILL)
                p.wait()
    return (*_result(folder), None, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(Path(sys.executable).with_name("mite")))
    ap.add_argument("--ref", default=os.path.expanduser("~/.cache/mite-ref-venv/bin/mite"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--volume", type=int, default=500)
    ap.add_argument("--delay-ms", type=int, default=10)
    args = ap.parse_args()
    port = free_port()
    target = subprocess.Popen([str(build_target()), str(port), str(args.delay_ms)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    configs = [
        ("ours, `--runners=1`", local, args.ours, "1"),
        ("ours, `--runners=2`", local, args.ours, "2"),
        (f"ours, `--runners=auto` ({len(os.sched_getaffinity(0))} cores)", local, args.ours, "auto"),
        ("mite 2.11.0, distributed, 1 runner", distributed, args.ref, 1),
        ("mite 2.11.0, distributed, 2 runners", distributed, args.ref, 2),
    ]
    rows = []
    try:
        time.sleep(0.5)
        for r in range(args.repeat):
            for name, how, mite, runners in configs:
                n, span, cpu, parent, children = how(
                    os.path.abspath(os.path.expanduser(mite)), runners, url, args.seconds, args.volume
                )
                rate = n / span if span > 0 else 0.0
                rows.append((r + 1, name, n, span, rate, cpu, parent, children))
                print(f"round {r + 1} {name:40} {n:>8} requests / {span:6.2f}s = {rate:>8.0f}/s, cpu {cpu:.1f}s", file=sys.stderr)
    finally:
        target.terminate()
        target.wait()
    print(
        "| round | configuration | requests | span (s) | requests/s | CPU s (all mite processes) "
        "| CPU µs / request | of which: parent / runner processes (sampled) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r, name, n, span, rate, cpu, parent, children in rows:
        per = cpu / n * 1e6 if n else 0.0
        split = "" if parent is None or not children or not n else f"{parent / n * 1e6:.0f} / {children / n * 1e6:.0f}"
        print(f"| {r} | {name} | {n:,} | {span:.2f} | {rate:,.0f} | {cpu:.1f} | {per:.0f} | {split} |")


if __name__ == "__main__":
    main()
