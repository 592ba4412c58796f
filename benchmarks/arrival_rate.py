"""Arrival-rate journeys: ours (`ArrivalRate(duration, rate)`) beside k6's constant-arrival-rate
executor at the same rates, against the same loopback nginx, in one run.

Each rate R (default 500 and 2000 journeys/s) runs for SECONDS (default 60): one journey is one
GET to nginx (ours: `mite_http`, one transaction; k6: one `http.get`). Requested journeys are
R × SECONDS; started are the finished journeys plus those dropped over the cap (ours: the JSON
summary's `totals.journeys` + `totals.journeys_dropped`, or `mite report` over the collector
folder when `--runners` > 1; k6: `iterations` + `dropped_iterations` from `--summary-export`).
The achieved rate is the finished journeys over SECONDS. Journey time p50/p99: ours,
`journey_duration` (measured from each journey's *scheduled* start); k6, `iteration_duration`
(from the iteration's actual start). CPU is user + system of the whole process tree (os.wait4's
rusage of the command: it includes every descendant it waited for). The machine's load average
is recorded at the start and end of each measurement.

mite 2.11.0 has no arrival-rate volume model (closed models only); `--ref` is asked whether its
`mite.volume_model` has one, and the table says so instead of a row.

    python benchmarks/arrival_rate.py --ours ~/.cache/arrival-rel-venv/bin/mite \
        --k6 ~/.cache/k6-venv/bin/k6 --ref ~/.cache/mite-ref-venv/bin/mite --rates 500,2000
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Nginx  # noqa: E402

SCENARIO = """
import os

from mite_http import mite_http
from mite.volume_model import ArrivalRate

URL = os.environ["MITE_BENCH_URL"]


@mite_http
async def get(ctx):
    async with ctx.transaction("get"):
        await ctx.http.get(URL)


def scenario():
    model = ArrivalRate(duration=float(os.environ["MITE_BENCH_SECONDS"]),
                        rate=float(os.environ["MITE_BENCH_RATE"]))
    return [["arrival_bench:get", None, model]]
"""

K6_SCRIPT = """
import http from 'k6/http';

export const options = {
  discardResponseBodies: true,
  scenarios: {
    arrivals: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE), timeUnit: '1s', duration: __ENV.SECONDS + 's',
      preAllocatedVUs: 100, maxVUs: 2000,
    },
  },
};

export default function () {
  http.get(__ENV.URL);
}
"""


def _wait_rusage(proc, timeout):
    """Exit status and user + system CPU seconds of `proc` and every descendant it reaped."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            raise SystemExit(f"{proc.args} did not finish in {timeout} s")
        time.sleep(0.2)


def _load():
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def run_ours(mite, url, rate, seconds, runners):
    folder = Path(tempfile.mkdtemp(prefix="mite-arrival-bench-"))
    (folder / "arrival_bench.py").write_text(SCENARIO)
    env = {
        **os.environ,
        "PYTHONPATH": str(folder),
        "MITE_BENCH_URL": url,
        "MITE_BENCH_SECONDS": str(seconds),
        "MITE_BENCH_RATE": str(rate),
    }
    cmd = [
        mite,
        "scenario",
        "test",
        "arrival_bench:scenario",
        f"--runners={runners}",
        "--json-summary=summary.json",
        "--hide-constant-logs",
        "--log-level=WARNING",
    ]
    load_start = _load()
    with open(folder / "mite.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        status, cpu = _wait_rusage(proc, seconds + 180)
    load_end = _load()
    # Exit status 1 is a finished run with errors (`--max-errors-threshold` is 0): still measured.
    if status not in (0, 1) or not (folder / "summary.json").exists():
        raise SystemExit(f"{cmd} exited {status}: {(folder / 'mite.log').read_text()[-2000:]}")
    summary = json.loads((folder / "summary.json").read_text())
    if runners != 1 or not summary["totals"]["journeys"]:
        # With several runner processes the parent's record is empty (docs/RESULTS.md): the
        # collector folder has every message.
        subprocess.run(
            [mite, "report", "collector_data", "--json-summary=summary.json"],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        summary = json.loads((folder / "summary.json").read_text())
    totals, times = summary["totals"], summary["journey_duration"]["percentiles_ms"]
    result = {
        "finished": totals["journeys"],
        "dropped": totals["journeys_dropped"],
        "failed": totals["journeys_failed"],
        "errors": totals["errors"],
        "p50": times["50"],
        "p99": times["99"],
        "per_second": _whole_seconds(summary.get("series", {}).get("journeys", [])),
        "cpu": cpu,
        "load": (load_start, load_end),
        "status": status,
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _whole_seconds(counts):
    """(min, max) journeys finished per second, over the seconds between the first and the last
    with any (those two are partial)."""
    busy = [i for i, n in enumerate(counts) if n]
    inner = counts[busy[0] + 1 : busy[-1]] if busy else []
    return (min(inner), max(inner)) if inner else None


def run_k6(k6, url, rate, seconds):
    folder = Path(tempfile.mkdtemp(prefix="k6-arrival-bench-"))
    (folder / "script.js").write_text(K6_SCRIPT)
    cmd = [
        k6,
        "run",
        "--quiet",
        "--no-usage-report",
        "--summary-trend-stats=med,p(99)",
        "--summary-export=summary.json",
        "-e",
        f"RATE={rate}",
        "-e",
        f"SECONDS={seconds}",
        "-e",
        f"URL={url}",
        "script.js",
    ]
    load_start = _load()
    with open(folder / "k6.log", "w") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "K6_NO_USAGE_REPORT": "true"},
        )
        status, cpu = _wait_rusage(proc, seconds + 180)
    load_end = _load()
    if status != 0:
        raise SystemExit(f"{cmd} exited {status}: {(folder / 'k6.log').read_text()[-2000:]}")
    metrics = json.loads((folder / "summary.json").read_text())["metrics"]
    duration = metrics["iteration_duration"]
    failed = metrics.get("http_req_failed", {})
    result = {
        "finished": int(metrics["iterations"]["count"]),
        "dropped": int(metrics.get("dropped_iterations", {}).get("count", 0)),
        "failed": int(failed.get("passes", 0)),  # k6's Rate counts "passes" of the failure check
        "errors": int(failed.get("passes", 0)),
        "p50": duration["med"],
        "p99": duration["p(99)"],
        "per_second": None,
        "cpu": cpu,
        "load": (load_start, load_end),
        "status": status,
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def ref_has_arrival_rate(ref):
    python = Path(ref).with_name("python")
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import mite, mite.volume_model as v; "
            "print(getattr(mite, '__version__', '?'), [n for n in dir(v) if 'rrival' in n])",
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(Path(sys.executable).with_name("mite")))
    ap.add_argument("--k6", default=os.path.expanduser("~/.cache/k6-venv/bin/k6"))
    ap.add_argument("--ref", default=os.path.expanduser("~/.cache/mite-ref-venv/bin/mite"))
    ap.add_argument("--rates", default="500,2000")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runners", default="1", help="ours: `--runners` of `mite scenario test`")
    ap.add_argument("--no-k6", action="store_true")
    args = ap.parse_args()
    ours, k6 = (
        os.path.abspath(os.path.expanduser(args.ours)),
        os.path.abspath(os.path.expanduser(args.k6)),
    )
    print(
        f"mite 2.11.0 (--ref): version and arrival-rate names in mite.volume_model: "
        f"{ref_has_arrival_rate(os.path.expanduser(args.ref))}",
        file=sys.stderr,
    )
    rows = []
    with Nginx() as nginx:
        for rate in (int(r) for r in args.rates.split(",")):
            tools = [
                (
                    f"ours, `--runners={args.runners}`",
                    run_ours,
                    (ours, nginx.url, rate, args.seconds, args.runners),
                )
            ]
            if not args.no_k6:
                tools.append(
                    ("k6 constant-arrival-rate", run_k6, (k6, nginx.url, rate, args.seconds))
                )
            for name, run, run_args in tools:
                r = run(*run_args)
                if r["status"]:
                    name += f" (exit status {r['status']}: {r['errors']:,} errors)"
                r.update(name=name, rate=rate, requested=round(rate * args.seconds))
                rows.append(r)
                achieved = r["finished"] / args.seconds
                print(
                    f"R={rate:g} {name:28} finished {r['finished']} dropped {r['dropped']} "
                    f"achieved {achieved:.1f}/s ({(achieved - rate) / rate * 100:+.2f}%) cpu {r['cpu']:.1f}s "
                    f"p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms load {r['load'][0]} -> {r['load'][1]}",
                    file=sys.stderr,
                )
    print(
        f"| rate (/s) | tool | requested | started (finished + dropped) | achieved /s over {args.seconds} s "
        "| error | journeys/s, min – max of whole seconds | dropped | failed | CPU s / 1000 journeys "
        "| journey p50 / p99 (ms) | load 1/5/15 min, start → end |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        achieved = r["finished"] / args.seconds
        per = r["cpu"] / r["finished"] * 1000 if r["finished"] else float("nan")
        window = (
            "—" if r["per_second"] is None else f"{r['per_second'][0]:,} – {r['per_second'][1]:,}"
        )
        print(
            f"| {r['rate']:,.0f} | {r['name']} | {r['requested']:,} | {r['finished'] + r['dropped']:,} "
            f"| {achieved:,.1f} | {(achieved - r['rate']) / r['rate'] * 100:+.2f}% | {window} | {r['dropped']:,} "
            f"| {r['failed']:,} | {per:.2f} | {r['p50']:.2f} / {r['p99']:.2f} | {r['load'][0]} → {r['load'][1]} |"
        )
    for rate in sorted({r["rate"] for r in rows}):
        print(
            f"| {rate:,.0f} | mite 2.11.0 | — | — | — | — | — | — | — | — | — | no arrival-rate volume model "
            "(closed models only) |"
        )


if __name__ == "__main__":
    main()
