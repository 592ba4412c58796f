"""Runs one example scenario under our `mite` and mite 2.11.0 side by side, and reduces each
collector stream to what must match: per journey, the messages in order, each with its fields'
names, order and value types."""

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers import MITE, REFERENCE_MITE, clean_env, collected  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
UPSTREAM_TESTS = Path(os.environ.get("MITE_UPSTREAM_SRC", "/work/upstream-mite")) / "test"
RUN_TIMEOUT = 120
PROCESSORS = "mite.logoutput:HttpStatsOutput"


def reference_mite():
    if not REFERENCE_MITE.exists():
        pytest.fail(f"mite 2.11.0 is missing at {REFERENCE_MITE}: run `make ref-venv`")
    return REFERENCE_MITE


def run_both(tmp_path, example, spec, env_extra, scenario_source=None, per_run_env=None):
    """Runs `mite scenario test SPEC` with examples/EXAMPLE (and `bad_peer.py` from
    `scenario_source`) under ours and the reference at once, each in its own folder, with
    `env_extra` and `per_run_env[name]` in the environment; returns
    {"ours": (proc, messages), "ref": (proc, messages)}."""
    procs = {}
    for name, exe in (("ours", MITE), ("ref", reference_mite())):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(EXAMPLES / example, folder)
        if scenario_source is not None:
            (folder / "bad_peer.py").write_text(scenario_source)
        procs[name] = (
            folder,
            subprocess.Popen(
                # Without MsgOutput: mite 2.11's pops fields out of `exception` messages before
                # its collector writes them.
                [str(exe), "scenario", "test", spec, f"--message-processors={PROCESSORS}"],
                cwd=folder,
                env=clean_env(**env_extra, **(per_run_env or {}).get(name, {})),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    results = {}
    for name, (folder, proc) in procs.items():
        try:
            proc.stdout_text, proc.stderr_text = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"{name}: `mite scenario test {spec}` hung for {RUN_TIMEOUT} s")
        results[name] = (proc, collected(folder))
    return results


def shape(msg):
    """Field names in order, each with its value's type."""
    return tuple((key, type(value).__name__) for key, value in msg.items())


def journeys(messages):
    """Each journey's messages in order, as (type, transaction, ex_type, shape), keyed by the
    journey's context id; controller reports (not sent by journeys) left out."""
    by_context = {}
    for msg in messages:
        if "context_id" in msg:
            entry = (msg["type"], msg["transaction"], msg.get("ex_type"), shape(msg))
            by_context.setdefault(msg["context_id"], []).append(entry)
    return by_context


def journey_sequences(messages):
    """The multiset of per-journey message sequences (independent of which context ran which)."""
    return Counter(tuple(seq) for seq in journeys(messages).values())


def errors_of(messages):
    """The (type, ex_type, message) of every error and exception sent."""
    return Counter(
        (m["type"], m["ex_type"], m["message"])
        for m in messages
        if m.get("type") in ("error", "exception")
    )


def run_upstream_test(python, filename, tmp_path):
    """Runs one file of mite 2.11's own test suite, unmodified, from a copy of it; returns the
    pytest process (the report in stdout)."""
    if not UPSTREAM_TESTS.is_dir():
        pytest.fail(f"mite 2.11's test suite is missing at {UPSTREAM_TESTS}")
    copy = tmp_path / "upstream"
    shutil.copytree(UPSTREAM_TESTS, copy / "test")
    return subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "-o", "asyncio_mode=auto", "-q", "-rA", f"test/{filename}"],
        cwd=copy,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )  # fmt: skip


def passed_tests(report):
    """Names of the tests a `pytest -rA` report says passed."""
    return {
        line.split(" ", 1)[1].strip() for line in report.splitlines() if line.startswith("PASSED ")
    }
