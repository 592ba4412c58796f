"""RSS over a long HTTP run: is memory flat over ~1 million requests?

Usage: python benchmarks/soak.py MITE [SECONDS] — runs the @mite_http journey (100 concurrent)
against nginx on loopback for SECONDS (default 60), samples the process's RSS every 5 s, and
prints the series with the number of requests sent so far.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import HERE, Nginx, count_messages  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    mite = os.path.abspath(sys.argv[1])
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    folder = tempfile.mkdtemp(prefix="mite-soak-")
    shutil.copy(os.path.join(HERE, "bench_scenarios.py"), folder)
    with Nginx() as nginx:
        env = {**os.environ, "PYTHONPATH": folder, "MITE_BENCH_SECONDS": str(seconds),
               "MITE_BENCH_VOLUME": "100", "MITE_BENCH_URL": nginx.url}
        proc = subprocess.Popen(
            [mite, "scenario", "test", "bench_scenarios:http", "--spawn-rate=100000000",
             "--hide-constant-logs", "--log-level=WARNING"],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        print(f"# {mite}, {seconds} s\n\n| t (s) | RSS MB |\n|---|---|")
        start = time.monotonic()
        while proc.poll() is None:
            time.sleep(5)
            try:
                print(f"| {time.monotonic() - start:.0f} | {rss_kb(proc.pid) / 1024:.1f} |", flush=True)
            except FileNotFoundError:
                break
        proc.wait()
    requests = count_messages(folder, "http_metrics")[0]
    print(f"\nrequests: {requests}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
