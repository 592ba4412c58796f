"""A disk that fills up: the collector and the recorder say so once (path and reason), keep every
frame they wrote readable, count what they lost, and the run exits 1 with one line."""

import os
import subprocess
import textwrap

import harness
import pytest

FRAME = {"type": "filler", "payload": "x" * 1000}


def test_collector_on_a_full_disk(started):
    address = harness.free_address()
    with harness.tiny_disk("1m") as disk:
        c = started("collector", f"--collector-socket={address}",
                    f"--collector-dir={disk / 'out'}")
        push = harness.Pusher(address, bind=True)
        push.send([harness.pack({**FRAME, "i": i}) for i in range(3000)])
        harness.wait_for(lambda: "No space" in c.stderr(), 30, "the collector to hit the full disk")
        push.close()
        status = c.stop()
        log = c.stderr()
        frames, clean = harness.read_frames(disk / "out" / "current")
    assert clean, "the file ends in a torn frame"
    assert status == 1, log[-2000:]
    counts = harness.totals(log)
    assert counts["written"] == len(frames), (counts, len(frames))
    assert counts["full"] == counts["received"] - len(frames) > 0, counts
    assert harness.balanced(counts), counts
    errors = [line for line in log.splitlines() if "ERROR" in line or "mite: error" in line]
    assert len(errors) <= 2, errors
    assert "No space left on device" in log and str(disk / "out" / "current") in log, log[-2000:]
    assert log.rstrip().splitlines()[-1].startswith("mite: error: the collector could not write")


def test_recorder_on_a_full_disk(started):
    address = harness.free_address()
    with harness.tiny_disk("256k") as disk:
        c = started("recorder", f"--recorder-socket={address}", f"--recorder-dir={disk / 'rec'}")
        push = harness.Pusher(address, bind=True)
        push.send([harness.pack({"type": "data_created", "name": "pool", "data": [i, "y" * 1000]})
                   for i in range(1000)])
        harness.wait_for(lambda: "No space" in c.stderr(), 30, "the recorder to hit the full disk")
        push.close()
        status = c.stop()
        log = c.stderr()
        frames, clean = harness.read_frames(disk / "rec" / "pool.msgpack")
    assert clean, "the data file ends in a torn record"
    assert status == 1, log[-2000:]
    counts = harness.totals(log)
    assert counts["written"] == len(frames), (counts, len(frames))
    assert counts["full"] == counts["received"] - len(frames) > 0, counts
    assert harness.balanced(counts), counts
    assert sum("ERROR" in line for line in log.splitlines()) <= 1, log[-3000:]


SCENARIO = textwrap.dedent("""
    from mite.scenario import StopVolumeModel

    async def journey(ctx):
        for i in range(200):
            ctx.send("filler", payload="x" * 1000, i=i)

    def volume(start, end):
        if start > 1:
            raise StopVolumeModel
        return 4

    def scenario():
        return [["fullmod:journey", None, volume]]
""")


def test_a_local_run_that_cannot_collect_fails(tmp_path):
    (tmp_path / "fullmod.py").write_text(SCENARIO)
    with harness.tiny_disk("512k") as disk:
        # A local run collects into ./collector_data: run it on the small disk.
        run = subprocess.run(
            [str(harness.MITES["ours"]), "scenario", "test", "fullmod:scenario"],
            cwd=disk, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
        )
        folder = disk / "collector_data"
        current = folder / "current"
        # The run may roll `current` (every 100,000 messages) before the disk fills: the frames
        # that fitted are in every file of the folder.
        files = [f for f in sorted(folder.iterdir()) if f.name != "current_start_time"]
        read = [harness.read_frames(f) for f in files]
        frames = [frame for got, _ in read for frame in got]
    assert all(clean for _, clean in read), f"a file ends in a torn frame: {files}"
    assert run.returncode == 1, run.stderr[-3000:]
    last = run.stderr.rstrip().splitlines()[-1]
    assert last.startswith("mite: error: the collector could not write"), last
    assert "No space left on device" in last and str(current) in last, last
    assert sum("ERROR" in line for line in run.stderr.splitlines()) <= 1, run.stderr[-3000:]
    assert frames, "the frames that fitted are kept"


@pytest.mark.parametrize("component", ["collector", "recorder"])
def test_a_folder_error_names_the_folder(started, tmp_path, component):
    (tmp_path / "afile").write_text("not a folder")
    where = tmp_path / "afile" / "sub"
    c = started(component, f"--{component}-socket={harness.free_address()}",
                f"--{component}-dir={where}")
    assert c.proc.wait(30) == 1
    last = c.stderr().rstrip().splitlines()[-1]
    assert str(where) in last and "Not a directory" in last, last
    assert len(c.stderr().strip().splitlines()) == 1, c.stderr()


