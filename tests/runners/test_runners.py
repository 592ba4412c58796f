"""`--runners=N`: one command, N runner processes, one run's output (collector folder, report,
exit status); a runner that dies, Ctrl-C/SIGTERM and a SIGKILLed parent leave no child behind."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import (
    MITE,
    assert_clean_failure,
    clean_env,
    http_server,
    read_frames,
    run_mite,
    wait_for,
    write_module,
)

STARTED = re.compile(r"started (\d+) runner processes: pids ([\d ]+)")


@pytest.fixture
def target():
    """A loopback HTTP server that counts the requests it answered."""
    with http_server() as server:
        yield server


SCENARIO = """
    import asyncio
    from mite_http import mite_http
    from mite.volume_model import Constant

    @mite_http
    async def journey(ctx):
        await ctx.http.get(ctx.config.get("target"))
        await asyncio.sleep(0.02)

    def scenario(config):
        return [["runners_scenario:journey", None, Constant(duration={duration}, tps=4)]]
"""


def _scenario(tmp_path, duration):
    write_module(tmp_path, "runners_scenario", SCENARIO.format(duration=duration))


def _env(target):
    return clean_env(MITE_CONF_target=f"http://127.0.0.1:{target.server_port}/")


def _collector_messages(folder):
    """Every message in every file of a collector folder (the rolled ones and `current`)."""
    files = sorted(p for p in Path(folder).iterdir() if not p.name.endswith("start_time"))
    assert files, f"no collector file in {folder}"
    return [m for f in files for m in read_frames(f)]


def _alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start(tmp_path, target, *args):
    """Starts `mite scenario test ... --runners=2` in the background; returns the process, its
    stderr file, and the children's pids once it has logged them."""
    err = open(tmp_path / "stderr.txt", "w+")
    proc = subprocess.Popen(
        [str(MITE), "scenario", "test", "runners_scenario:scenario", "--runners=2", *args],
        cwd=tmp_path,
        env=_env(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    pids = []

    def started():
        m = STARTED.search((tmp_path / "stderr.txt").read_text())
        if m:
            pids.extend(int(p) for p in m.group(2).split())
        return bool(m) or proc.poll() is not None

    assert wait_for(started, timeout=60), "no 'started' line"
    assert len(pids) == 2, (tmp_path / "stderr.txt").read_text()[-2000:]
    return proc, err, pids


def test_two_runners_are_one_run(tmp_path, target):
    _scenario(tmp_path, duration=3)
    proc = run_mite(
        ["scenario", "test", "runners_scenario:scenario", "--runners=2", "--report"],
        cwd=tmp_path,
        env=_env(target),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = _collector_messages(tmp_path / "collector_data")
    metrics = [m for m in messages if m["type"] == "http_metrics"]
    # Both processes ran journeys, each as its own runner.
    assert {m["runner_id"] for m in metrics} == {1, 2}
    reported = int(re.search(r"(\d+) requests in", proc.stdout).group(1))
    assert target.count == len(metrics) == reported > 0
    # The parent's controller reported two runners.
    reports = [m for m in messages if m["type"] == "controller_report"]
    assert max(r["num_runners"] for r in reports) == 2
    # `mite cat` reads every frame of the folder.
    for f in (tmp_path / "collector_data").iterdir():
        if not f.name.endswith("start_time"):
            cat = subprocess.run([str(MITE), "cat", str(f)], capture_output=True, text=True)
            assert cat.returncode == 0, cat.stderr
    assert not list(tmp_path.glob("mite-runners-*"))


def test_a_runner_that_dies_is_reported_once_and_the_other_carries_on(tmp_path, target):
    _scenario(tmp_path, duration=12)
    proc, err, pids = _start(tmp_path, target)
    try:
        assert wait_for(lambda: target.count >= 20, timeout=60)
        os.kill(pids[0], signal.SIGKILL)
        killed_at = time.time()
        before = target.count
        # The other runner keeps sending requests after the death.
        assert wait_for(lambda: target.count >= before + 20, timeout=60)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err.seek(0)
    stderr = err.read()
    assert proc.returncode == 3, stderr[-3000:]
    deaths = [line for line in stderr.splitlines() if f"(pid {pids[0]}) was killed by signal 9" in line]
    # One log record and the final `mite: error:` line.
    assert len(deaths) == 2, stderr[-3000:]
    assert "mite: error: runner process" in stderr and "Traceback" not in stderr
    messages = _collector_messages(tmp_path / "collector_data")
    # What the killed runner had not yet sent is lost with it (its requests in flight, its last
    # few milliseconds of messages); everything else arrived.
    metrics = [m for m in messages if m["type"] == "http_metrics"]
    assert len(metrics) <= target.count
    assert len([m for m in metrics if m["time"] > killed_at]) >= 20
    # The dead runner's journeys went back to the volume: the survivor ran all 4 alone.
    reports = [m for m in messages if m["type"] == "controller_report" and m["num_runners"] == 1]
    assert any(sum(r["actual"].values()) == 4 for r in reports), reports[-3:]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_stops_every_child_and_reports(tmp_path, target, signum, status):
    _scenario(tmp_path, duration=120)
    proc, err, pids = _start(tmp_path, target, "--report")
    try:
        assert wait_for(lambda: target.count >= 10, timeout=60)
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err.seek(0)
    stderr = err.read()
    assert proc.returncode == status, stderr[-3000:]
    assert "Traceback" not in stderr and "before the end of the run" not in stderr
    assert not [pid for pid in pids if _alive(pid)]
    metrics = [m for m in _collector_messages(tmp_path / "collector_data") if m["type"] == "http_metrics"]
    reported = int(re.search(r"(\d+) requests in", out).group(1))
    assert target.count == len(metrics) == reported


def test_a_killed_parent_leaves_no_child(tmp_path, target):
    _scenario(tmp_path, duration=120)
    proc, err, pids = _start(tmp_path, target)
    try:
        assert wait_for(lambda: target.count >= 5, timeout=60)
        assert all(_alive(pid) for pid in pids)
        proc.kill()
        proc.wait()
        assert wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=30), pids
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "", "AUTO"])
def test_bad_runners_values_are_one_line(tmp_path, value):
    proc = run_mite(["scenario", "test", "nowhere:scenario", f"--runners={value}"], cwd=tmp_path)
    assert_clean_failure(proc, 2, "--runners", f"'{value}'")


def test_debugging_needs_one_runner(tmp_path):
    write_module(tmp_path, "dbg", "def scenario():\n    return []\n")
    proc = run_mite(["journey", "test", "dbg:j", "--runners=2", "--debugging"], cwd=tmp_path)
    assert_clean_failure(proc, 2, "--debugging", "--runners=1")


def test_runners_shows_in_help(tmp_path):
    proc = run_mite(["--help"], cwd=tmp_path)
    usage = [line for line in proc.stdout.splitlines() if line.lstrip().startswith("mite [options] ")
             and (" scenario test " in line or " journey test " in line)]
    assert len(usage) == 2 and all("[--runners=RUNNERS]" in line for line in usage), usage
    assert re.search(r"--runners=RUNNERS +Runner processes .*\[default: 1\]", proc.stdout)


POOLED = """
    import asyncio
    from mite_http import mite_http
    from mite.datapools import RecyclableIterableDataPool
    from mite.volume_model import Constant

    # As many items as journeys: an item the dead runner held must come back, or the survivor's
    # checkout finds the pool empty and the run fails.
    pool = RecyclableIterableDataPool([(i,) for i in range(4)])

    @mite_http
    async def journey(ctx, n):
        await ctx.http.get(ctx.config.get("target"))
        await asyncio.sleep(0.5)

    def scenario(config):
        return [["runners_scenario:journey", pool, Constant(duration=12, tps=4)]]
"""


def test_a_dead_runners_datapool_items_are_checked_back_in(tmp_path, target):
    write_module(tmp_path, "runners_scenario", POOLED)
    proc, err, pids = _start(tmp_path, target)
    try:
        assert wait_for(lambda: target.count >= 10, timeout=60)
        os.kill(pids[0], signal.SIGKILL)
        before = target.count
        assert wait_for(lambda: target.count >= before + 10 or proc.poll() is not None, timeout=60)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err.seek(0)
    stderr = err.read()
    # 3: a runner died; not 1, which an empty datapool (a scenario error) would have made it.
    assert proc.returncode == 3, stderr[-3000:]
    assert "datapool items runner" in stderr and "emptied" not in stderr, stderr[-3000:]
    messages = _collector_messages(tmp_path / "collector_data")
    reports = [m for m in messages if m["type"] == "controller_report" and m["num_runners"] == 1]
    assert any(sum(r["actual"].values()) == 4 for r in reports), reports[-3:]
