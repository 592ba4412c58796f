"""What the run record costs: journeys/s and HTTP requests/s of mite 2.11.0, a build without the
record (before), and this build with its default options and with every results option on
(`--report --json-summary --html-report --threshold`), alternating in one session.

python benchmarks/results_overhead.py --before BEFORE/bin/mite --after AFTER/bin/mite [--repeat 2]
"""

import argparse
import os
import sys
import tempfile

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
    print("| run | build | journeys/s | CPU s | HTTP requests/s | CPU µs / request |")
    print("|---|---|---|---|---|---|")
    with Nginx() as nginx:
        for i in range(args.repeat):
            for name, mite, extra in builds:
                # mite 2.11 takes no --threshold/--json-summary/--html-report: it runs plain.
                j = run_once(mite, "journeys", {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "200"},
                             extra_args=extra)
                env = {"MITE_BENCH_SECONDS": args.seconds, "MITE_BENCH_VOLUME": "100", "MITE_BENCH_URL": nginx.url}
                h = run_once(mite, "http", env, extra_args=extra, kind="http_metrics")
                per = h["cpu"] / max(h["journeys"], 1) * 1e6
                print(f"| {i + 1} | {name} | {j['journeys'] / j['span']:,.0f} | {j['cpu']:.1f} | "
                      f"{h['journeys'] / h['span']:,.0f} | {per:.0f} |", flush=True)


if __name__ == "__main__":
    main()
