"""The hardening suite: each test repeats one finding of the fault campaign (faults/) against
`mite` components started on loopback, and fails if the defect comes back."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "faults"))

import harness  # noqa: E402


@pytest.fixture
def started(tmp_path):
    """Starts components in `tmp_path`; every one still running is killed at the end."""
    procs = []

    def start(*args, impl="ours", env=None):
        c = harness.Component(list(args), tmp_path, impl=impl, env=env)
        procs.append(c)
        return c

    yield start
    for c in procs:
        if c.alive():
            c.proc.kill()
            c.proc.wait()
