"""The fault campaign leaves nothing running when it is itself stopped: components it started
die with it on SIGTERM/SIGINT (its handler) and on SIGKILL (the children's parent-death signal)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "faults" / "run.py"


def children(pid):
    """Pids whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(entry.name))
    return found


def gone(pid):
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:\t", 1)[1][:1]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_components_die_with_the_campaign(tmp_path, sig):
    env = {**os.environ, "FAULTS_ONLY": "frame_floods", "FAULTS_SCRATCH": str(tmp_path / "scratch")}
    campaign = subprocess.Popen([sys.executable, str(RUN)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    try:
        started = wait_until(lambda: children(campaign.pid), 60, "a component started by faults/run.py")
        campaign.send_signal(sig)
        campaign.wait(60)
        wait_until(lambda: all(gone(pid) for pid in started), 30,
                   f"components {started} to end after faults/run.py got {sig.name}")
    finally:
        if campaign.poll() is None:
            campaign.kill()
            campaign.wait()
