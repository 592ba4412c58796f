"""`mite.collector.Collector`: raw frames into `current`, rolled into `START_END[_ID]_N`."""

import json
import math
import re

import pytest

from mite.collector import Collector
from mite.utils import pack_msg, unpack_msg


def frames(*messages):
    return [pack_msg(m) for m in messages]


def start_time(folder):
    return (folder / "current_start_time").read_text()


def rolled(folder):
    return sorted(
        p.name for p in folder.iterdir() if p.name not in ("current", "current_start_time")
    )


def test_frames_are_appended_to_current_unchanged(tmp_path):
    collector = Collector(str(tmp_path))
    raws = frames({"type": "a", "n": 1}, {"type": "b", "x": [1.5, None]}, {"type": "c"})
    for raw in raws:
        collector.process_raw_message(raw)
    del collector  # mite 2.11 closes the file only here
    assert (tmp_path / "current").read_bytes() == b"".join(raws)
    assert rolled(tmp_path) == []


def test_current_start_time_holds_whole_seconds(tmp_path):
    Collector(str(tmp_path))  # dropped at once: its file is closed
    text = start_time(tmp_path)
    assert re.fullmatch(r"\d+", text), text


def test_the_folder_is_created(tmp_path):
    target = tmp_path / "a" / "b"
    Collector(str(target))  # dropped at once: its file is closed
    assert (target / "current").is_file()


def test_default_folder_is_collector_data_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Collector()  # dropped at once: its file is closed
    assert (tmp_path / "collector_data" / "current").is_file()


def test_current_is_rolled_every_n_messages(tmp_path):
    collector = Collector(str(tmp_path), roll_after=3)
    first_start = start_time(tmp_path)
    raws = frames(*({"n": n} for n in range(7)))
    for raw in raws[:3]:
        collector.process_raw_message(raw)
    second_start = start_time(tmp_path)
    for raw in raws[3:]:
        collector.process_raw_message(raw)
    del collector  # mite 2.11 closes the file only here
    names = rolled(tmp_path)
    assert len(names) == 2
    by_counter = {name.rsplit("_", 1)[1]: name for name in names}
    assert sorted(by_counter) == ["0", "1"]
    for name in names:
        start, end, counter = name.split("_")
        assert start.isdigit() and end.isdigit() and int(start) <= int(end)
    assert by_counter["0"].startswith(f"{first_start}_")
    assert by_counter["1"].startswith(f"{second_start}_")
    assert (tmp_path / by_counter["0"]).read_bytes() == b"".join(raws[0:3])
    assert (tmp_path / by_counter["1"]).read_bytes() == b"".join(raws[3:6])
    assert (tmp_path / "current").read_bytes() == raws[6]


def test_a_collector_id_goes_between_end_time_and_counter(tmp_path):
    collector = Collector(str(tmp_path), roll_after=1, collector_id="c7")
    collector.process_raw_message(pack_msg({"n": 1}))
    del collector  # mite 2.11 closes the file only here
    (name,) = rolled(tmp_path)
    assert re.fullmatch(r"\d+_\d+_c7_0", name), name


def test_an_empty_collector_id_is_left_out(tmp_path):
    collector = Collector(str(tmp_path), roll_after=1, collector_id="")
    collector.process_raw_message(pack_msg({"n": 1}))
    del collector  # mite 2.11 closes the file only here
    (name,) = rolled(tmp_path)
    assert re.fullmatch(r"\d+_\d+_0", name), name


def test_a_zero_collector_id_is_left_out_as_in_mite_211(tmp_path):
    collector = Collector(str(tmp_path), roll_after=1, collector_id=0)
    collector.process_raw_message(pack_msg({"n": 1}))
    del collector  # mite 2.11 closes the file only here
    (name,) = rolled(tmp_path)
    assert re.fullmatch(r"\d+_\d+_0", name), name


def test_a_current_left_by_an_earlier_run_is_rolled_at_start(tmp_path):
    earlier = Collector(str(tmp_path))
    earlier.process_raw_message(b"left over")
    del earlier  # mite 2.11 closes the file only here
    earlier_start = start_time(tmp_path)
    Collector(str(tmp_path))  # dropped at once: its file is closed
    (name,) = rolled(tmp_path)
    assert name.startswith(f"{earlier_start}_") and name.endswith("_0")
    assert (tmp_path / name).read_bytes() == b"left over"
    assert (tmp_path / "current").read_bytes() == b""


def test_the_filter_is_given_the_raw_frame_and_decides(tmp_path):
    seen = []

    def keep_even(raw):
        seen.append(raw)
        return unpack_msg(raw)["n"] % 2 == 0

    collector = Collector(str(tmp_path), filter_fn=keep_even)
    raws = frames(*({"n": n} for n in range(5)))
    for raw in raws:
        collector.process_raw_message(raw)
    del collector  # mite 2.11 closes the file only here
    assert seen == raws
    assert (tmp_path / "current").read_bytes() == raws[0] + raws[2] + raws[4]


def test_filtered_out_frames_still_count_towards_the_roll(tmp_path):
    collector = Collector(str(tmp_path), roll_after=2, filter_fn=lambda raw: False)
    for raw in frames({"n": 1}, {"n": 2}):
        collector.process_raw_message(raw)
    del collector  # mite 2.11 closes the file only here
    (name,) = rolled(tmp_path)
    assert (tmp_path / name).read_bytes() == b""


TYPICAL = [
    {"type": "test"},
    {
        "start_time": 1572604344.7903123,
        "end_time": 1572604346.0693598,
        "had_error": True,
        "type": "txn",
        "time": 1572604346.0693617,
        "test": "mite_project.file:scenario",
        "runner_id": 1,
        "journey": "mite_project.file:journey",
        "context_id": 8,
        "scenario_id": 31,
        "scenario_data_id": None,
        "transaction": "__root__ :: login",
        "transaction_id": 3,
    },
    {
        "type": "controller_report",
        "time": 1.0,
        "test": "t:scenario",
        "required": {1: 10, 2: 4},
        "actual": {1: 7},
        "num_runners": 3,
    },
    {
        "message": 'ValueError: bad "quote"\\',
        "ex_type": "ValueError",
        "location": "/tmp/x.py:3:journey",
        "stacktrace": '  File "/tmp/x.py", line 3, in journey\n\traise ValueError()\n',
        "type": "exception",
    },
    {
        "type": "user",
        "unicode": "caf\u00e9 \u2603 \U0001f600 \x01",
        "ints": [0, -1, 2**31, 2**63, -(2**63)],
        "floats": [0.1, 1e-07, 1e16, 123456789.123, -0.0, 2.5e-300, 1.7976931348623157e308],
        "odd_floats": [math.inf, -math.inf, math.nan],
        "nested": {"a": [{"b": None}], "t": (1, "x")},
        "keys": {True: "t", None: "n", 2.5: "f", 3: "i"},
        "empty": {},
        "blank": "",
    },
]


@pytest.mark.parametrize("message", TYPICAL, ids=lambda m: m["type"])
def test_json_lines_are_what_json_dumps_writes(tmp_path, message):
    raw = pack_msg(message)
    collector = Collector(str(tmp_path), use_json=True)
    collector.process_raw_message(raw)
    collector.process_raw_message(raw)
    del collector  # mite 2.11 closes the file only here
    expected = json.dumps(unpack_msg(raw)) + "\n"
    assert (tmp_path / "current").read_text() == expected * 2
