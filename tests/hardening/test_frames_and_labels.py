"""Frames mite 2.11's tools cannot read are refused on every socket; stats refuses messages whose
labels an exporter cannot hash; newlines cannot forge /metrics lines; the recorder's totals add up
and a flood of bad frames does not flood the log."""

import urllib.request

import harness
import msgpack

RESERVED_EXT = b"\xd4\x80\x00"
GOOD = harness.pack({"type": "m", "i": 1})


def stop_and_count(c):
    c.stop()
    return harness.totals(c.stderr())


def test_collector_refuses_frames_msgpack_python_cannot_read(started, tmp_path):
    address = harness.free_address()
    c = started("collector", f"--collector-socket={address}", "--collector-dir=out")
    push = harness.Pusher(address, bind=True)
    bad = [RESERVED_EXT, b"\xa1\xff", b"\x81\x91\x80\x01", b"\xd7\xff" + b"\xff" * 8]
    push.send([GOOD, *bad, GOOD])
    current = tmp_path / "out" / "current"
    harness.wait_for(lambda: current.exists() and current.stat().st_size >= 2 * len(GOOD), 20,
                     "the collector to write the good frames")
    push.close()
    counts = stop_and_count(c)
    frames, clean = harness.read_frames(current)
    assert clean and len(frames) == 2, frames
    assert counts["malformed"] == 4 and counts["written"] == 2, counts
    assert harness.balanced(counts), counts


def keys(raw):
    """The label tuples of every metric in one stats dump."""
    for stat in msgpack.unpackb(raw, raw=False, strict_map_key=False, use_list=False):
        yield from stat.get("metrics") or {}


def test_stats_refuses_a_map_as_a_label_value(started):
    inp, out = harness.free_address(), harness.free_address()
    pull = harness.Puller(out)
    c = started("stats", f"--stats-in-socket={inp}", f"--stats-out-socket={out}")
    push = harness.Pusher(inp, bind=True)
    base = {"type": "txn", "test": "t", "journey": "j", "transaction": "x", "had_error": False}
    push.send([harness.pack({**base, "journey": {"a": 1}}), harness.pack(base)])
    dumps = []

    def counted_the_good_one():
        # Frames arrive in order: a dump counting the good message means both were received.
        while pull.sock.poll(0):
            dumps.append(pull.sock.recv())
        return any("x" in key for raw in dumps for key in keys(raw))

    harness.wait_for(counted_the_good_one, 30, "a dump counting the good message")
    push.close()
    counts = stop_and_count(c)
    pull.close()
    for raw in dumps:
        # What a mite 2.11 exporter does with a dump: tuples as keys must hash.
        for key in keys(raw):
            hash(key)
    assert counts["refused"] == 1 and counts["received"] == 2, counts
    assert harness.balanced(counts), counts


def test_newlines_in_labels_cannot_forge_metrics_lines(started):
    stats_out, web = harness.free_address(), harness.free_port()
    c = started("prometheus_exporter", f"--stats-out-socket={stats_out}",
                f"--web-address=127.0.0.1:{web}")
    push = harness.Pusher(stats_out)
    forged = 'x"} 1\nforged_metric 666\n#'
    dumps = [
        {"type": "Gauge", "name": "g", "labels": ["test"], "metrics": {(forged,): 1}},
        {"type": "Gauge", "name": "bad\nname 1", "labels": ["test"], "metrics": {("v",): 1}},
    ]
    push.send([msgpack.packb(dumps, use_bin_type=True)])

    def page():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        return text if "TYPE g" in text else None

    text = harness.wait_for(page, 20, "the gauge on /metrics")
    push.close()
    assert not any(line.startswith("forged_metric") for line in text.splitlines()), text
    assert 'g {test="x\\"} 1\\nforged_metric 666\\n#"} 1' in text, text
    assert "bad" not in text, text
    counts = stop_and_count(c)
    assert counts["refused"] == 1, counts


def test_recorder_totals_add_up_and_warnings_are_throttled(started, tmp_path):
    address = harness.free_address()
    c = started("recorder", f"--recorder-socket={address}", "--recorder-dir=rec")
    push = harness.Pusher(address, bind=True)
    frames = [b"\xc1garbage"] * 2000
    frames += [harness.pack({"type": "other", "n": i}) for i in range(100)]
    frames += [harness.pack({"type": "data_created", "name": n, "data": 1})
               for n in ("../x", "a/b", "n" * 300)]
    frames += [harness.pack({"type": "data_created", "name": "ok", "data": i}) for i in range(10)]
    push.send(frames)
    harness.wait_for(lambda: (tmp_path / "rec" / "ok.msgpack").exists()
                     and (tmp_path / "rec" / "ok.msgpack").stat().st_size == 10, 30,
                     "the recorder to write the good records")
    push.close()
    counts = stop_and_count(c)
    log = c.stderr()
    assert counts["received"] == len(frames), counts
    assert counts["ignored"] == 100 and counts["refused"] == 3 and counts["written"] == 10, counts
    assert counts["malformed"] == 2000 and counts.get("unwritable", 0) == 0, counts
    assert harness.balanced(counts), counts
    assert len(log.splitlines()) < 30, f"{len(log.splitlines())} log lines:\n{log[:3000]}"
    assert "were not logged" in log, log[-2000:]


def test_a_syntax_error_in_a_scenario_is_one_line(tmp_path):
    import subprocess

    (tmp_path / "broken.py").write_text("def scenario(:\n    pass\n")
    run = subprocess.run([str(harness.MITES["ours"]), "scenario", "test", "broken:scenario"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "broken.py:1" in lines[0] and "SyntaxError" in lines[0], lines[0]


