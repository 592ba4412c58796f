"""`mite cat` / `mite uncat` against what mite 2.11's Python (`json.dump`, `msgpack.packb`) writes."""

import json
import subprocess

import msgpack

from helpers import MITE, clean_env, run_mite

FRAMES = [
    {"type": "txn", "time": 1795417568.87890625, "start_time": 1.5, "end_time": 2.0, "had_error": False},
    {
        "start_time": 1795417568,
        "effective_url": "http://127.0.0.1/é",
        "method": b"GET",
        "download_size": 951.0,
        "nested": {"a": [1, None, True], "b": 1e-05},
        "type": "http_metrics",
    },
    {"type": "controller_report", "required": {1: 3}, "actual": {1: 2}, "num_runners": 1},
    [1, 2.5, "x"],
]


def python_json(frame):
    # mite 2.11's cat: msgpack decoded with tuples and loose map keys, bytes as UTF-8 text.
    decoded = msgpack.unpackb(msgpack.packb(frame, use_bin_type=True), raw=False, use_list=False, strict_map_key=False)

    def default(o):
        return o.decode("utf-8")

    return json.dumps(decoded, default=default)


def write_frames(path, frames):
    path.write_bytes(b"".join(msgpack.packb(f, use_bin_type=True) for f in frames))


def test_cat_prints_each_frame_as_python_json_dumps_would(tmp_path):
    write_frames(tmp_path / "data", FRAMES)
    proc = run_mite(["cat", "data"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [python_json(f) for f in FRAMES]


def test_prettify_timestamps_rewrites_only_the_three_time_fields(tmp_path):
    write_frames(tmp_path / "data", FRAMES[:1])
    line = json.loads(run_mite(["cat", "--prettify-timestamps", "data"], cwd=tmp_path).stdout)
    from datetime import datetime

    assert line["time"] == datetime.fromtimestamp(1795417568.87890625).isoformat()
    assert line["start_time"] == datetime.fromtimestamp(1.5).isoformat()
    assert line["end_time"] == datetime.fromtimestamp(2.0).isoformat()
    assert line["had_error"] is False


def test_a_truncated_file_prints_the_good_frames_then_fails_in_one_line(tmp_path):
    good = msgpack.packb(FRAMES[0], use_bin_type=True)
    (tmp_path / "data").write_bytes(good + good[:5])
    proc = run_mite(["cat", "data"], cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [python_json(FRAMES[0])]
    assert proc.stderr.splitlines() == [f"mite: error: data: malformed msgpack at byte {len(good)}; the frames before it were printed"]


def test_a_missing_file_is_one_line(tmp_path):
    proc = run_mite(["cat", "nope"], cwd=tmp_path)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1 and "nope" in proc.stderr


def test_uncat_packs_each_json_line_as_msgpack_packb_would(tmp_path):
    lines = ['{"type": "txn", "n": 1, "f": 2.5, "l": [1, "a"]}', "[1, 2]", '"text"']
    proc = subprocess.run(
        [str(MITE), "uncat"], input="\n".join(lines).encode(), capture_output=True, env=clean_env(), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"".join(msgpack.packb(json.loads(line), use_bin_type=True) for line in lines)


def test_cat_then_uncat_gives_the_file_back(tmp_path):
    frames = [f for f in FRAMES if "method" not in f and not isinstance(f, list) and "required" not in f]
    write_frames(tmp_path / "data", frames)
    text = run_mite(["cat", "data"], cwd=tmp_path).stdout
    back = subprocess.run([str(MITE), "uncat"], input=text.encode(), capture_output=True, env=clean_env()).stdout
    assert back == (tmp_path / "data").read_bytes()


def test_cat_into_a_closed_pipe_is_not_an_error(tmp_path):
    # `mite cat f | head -1`: the reader goes away after one line; cat stops quietly, exit 0.
    write_frames(tmp_path / "data", FRAMES * 20000)  # far more than a pipe holds
    cat = subprocess.Popen(
        [str(MITE), "cat", "data"], cwd=tmp_path, env=clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    first = cat.stdout.readline()
    cat.stdout.close()  # the reader is gone
    stderr = cat.stderr.read().decode()
    assert cat.wait(60) == 0, stderr
    assert first.decode().rstrip("\n") == python_json(FRAMES[0])
    assert stderr == ""


def test_uncat_reports_a_line_that_is_not_json_with_its_number(tmp_path):
    text = '{"type": "txn"}\n\n{"type": oops}\n[1]\n'
    proc = subprocess.run(
        [str(MITE), "uncat"], input=text.encode(), capture_output=True, env=clean_env(), cwd=tmp_path
    )
    assert proc.returncode == 1
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mite: error: line 3 is not JSON"), stderr
    # The line before it was packed; nothing after it.
    assert proc.stdout == msgpack.packb({"type": "txn"}, use_bin_type=True)
