"""Runs one example scenario under our `mite` and mite 2.11.0 side by side, and reduces each
collector stream to what must match: per journey, the messages in order, each with its fields'
names, order and value types."""

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers import MITE, REFERENCE_MITE, clean_env, collected  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT = 120
PROCESSORS = "mite.logoutput:HttpStatsOutput"


def reference_mite():
    if not REFERENCE_MITE.exists():
        pytest.fail(f"mite 2.11.0 is missing at {REFERENCE_MITE}: run `make ref-venv`")
    return REFERENCE_MITE


# mite 2.11's runner keeps no reference to its journey tasks (asyncio holds them weakly), so the
# cyclic GC may destroy one that waits on a stream only a weakref reaches, as aio-pika's
# handshake does; the run then waits for it forever (9 hung runs of 18 under load, measured).
# The reference runs with the cyclic GC off, which changes none of its messages; ours keeps its
# AMQP journey tasks alive itself (mite_amqp) and runs as it is.
REF_SITECUSTOMIZE = "import gc\n\ngc.disable()\n"


def run_both(tmp_path, example, spec, env_extra, scenario_source=None, per_run_env=None):
    """Runs `mite scenario test SPEC` with examples/EXAMPLE (and `bad_peer.py` from
    `scenario_source`) under ours and the reference at once, each in its own folder, with
    `env_extra` and `per_run_env[name]` in the environment; returns
    {"ours": (proc, messages), "ref": (proc, messages)}, each proc with `stderr_text`."""
    site = tmp_path / "ref-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REF_SITECUSTOMIZE)
    procs = {}
    try:
        for name, exe in (("ours", MITE), ("ref", reference_mite())):
            folder = tmp_path / name
            folder.mkdir()
            shutil.copy(EXAMPLES / example, folder)
            if scenario_source is not None:
                (folder / "bad_peer.py").write_text(scenario_source)
            env = clean_env(**env_extra, **(per_run_env or {}).get(name, {}))
            if name == "ref":
                env["PYTHONPATH"] = str(site)
            with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
                procs[name] = subprocess.Popen(
                    # Without MsgOutput: mite 2.11's pops fields out of `exception` messages
                    # before its collector writes them.
                    [str(exe), "scenario", "test", spec, f"--message-processors={PROCESSORS}"],
                    cwd=folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                )
        results = {}
        for name, proc in procs.items():
            try:
                proc.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{name}: `mite scenario test {spec}` hung for {RUN_TIMEOUT} s")
            folder = tmp_path / name
            proc.stderr_text = (folder / "stderr").read_text(errors="replace")
            results[name] = (proc, collected(folder))
        return results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


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
