"""What the run record costs: journeys/s and HTTP requests/s of mite 2.11.0, a build without the
record (before), and this build with its default options and with every results option on
(`--report --json-summary --html-report --threshold`), alternating in one session. Besides the
rates, the CPU per journey and per request: on a loaded machine it moves far less than the rates,
so the medians over the rounds are the comparison to read.

python benchmarks/results_overhead.py --before BEFORE/bin/mite --after AFTER/bin/mite [--repeat 2]
"""

import argparse
import os
import statistics
import sys
import tempfile
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Nginx, run_once  # noqa: E402

REF = os.path.join(os.path.expanduser("~/.cache/mite-ref-venv"), "bin", "mite")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--ref", default=REF)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seconds", default="10")
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="mite-results-bench-")
    on = ["--report", f"--json-summary={out}/s.json", f"--html-report={out}/r.html", "--threshold=errors==0"]
    builds = [("mite 2.11.0", args.ref, []), ("before", args.before, []),
              ("after", args.after, []), ("after, record on", args.after, on)]
    print(f"## journeys/s (200 concurrent) and HTTP requests/s (100 concurrent), {args.seconds} s each\n")
    print("| run | build | journeys/s | CPU µs / journey | HTTP requests/s | CPU µs / request | load |")
    print("|---|---|---|---|---|---|---|")
    seen = defaultdict(lambda: defaultdict(list))
    with Nginx() as nginx:
        for i in range(args.repeat):
            for name, mite, extra in builds:
                # mite 2.11 takes no --threshold/--json-summary/--html-report: it runs plain.
                j = run_once(mite, "journeys", {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "200"},
                             extra_args=extra)
                env = {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "100", "MITE_BENCH_URL": nginx.url}
                h = run_once(mite, "http", env, extra_args=extra, kind="http_metrics")
                row = {
                    "journeys/s": j["journeys"] / j["span"],
                    "CPU µs / journey": j["cpu"] / max(j["journeys"], 1) * 1e6,
                    "HTTP requests/s": h["journeys"] / h["span"],
                    "CPU µs / request": h["cpu"] / max(h["journeys"], 1) * 1e6,
                }
                for k, v in row.items():
                    seen[name][k].append(v)
                load = os.getloadavg()[0]
                print(f"| {i + 1} | {name} | " + " | ".join(f"{v:,.1f}" for v in row.values()) + f" | {load:.1f} |",
                      flush=True)
    print(f"\n## medians over {args.repeat} rounds\n")
    keys = list(next(iter(seen.values())))
    print("| build | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, cols in seen.items():
        print(f"| {name} | " + " | ".join(f"{statistics.median(cols[k]):,.1f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
