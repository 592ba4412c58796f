"""`mite.recorder.Recorder`: `data_created` appends to NAME.msgpack, `purge_data` deletes it."""

import msgpack
import pytest

from mite.recorder import Recorder
from mite.utils import pack_msg


def created(name, data):
    return {"type": "data_created", "name": name, "data": data}


def purged(name):
    return {"type": "purge_data", "name": name}


def read_all(path):
    with open(path, "rb") as f:
        return list(msgpack.Unpacker(f, raw=False, use_list=False, strict_map_key=False))


def test_data_created_appends_the_packed_data(tmp_path):
    recorder = Recorder(target_dir=str(tmp_path))
    first = {"user": "u1", "ids": [1, 2], "token": None}
    second = "a plain string"
    recorder.process_message(created("users", first))
    recorder.process_message(created("users", second))
    path = tmp_path / "users.msgpack"
    assert path.read_bytes() == pack_msg(first) + pack_msg(second)
    assert read_all(path) == [{"user": "u1", "ids": (1, 2), "token": None}, second]


def test_purge_data_deletes_the_file(tmp_path):
    recorder = Recorder(target_dir=str(tmp_path))
    recorder.process_message(created("gone", 1))
    recorder.process_message(created("kept", 2))
    recorder.process_message(purged("gone"))
    assert not (tmp_path / "gone.msgpack").exists()
    assert read_all(tmp_path / "kept.msgpack") == [2]


def test_purging_a_missing_file_is_not_an_error(tmp_path):
    recorder = Recorder(target_dir=str(tmp_path))
    recorder.process_message(purged("never-created"))
    assert list(tmp_path.iterdir()) == []


def test_recording_starts_again_after_a_purge(tmp_path):
    recorder = Recorder(target_dir=str(tmp_path))
    recorder.process_message(created("x", 1))
    recorder.process_message(purged("x"))
    recorder.process_message(created("x", 2))
    assert read_all(tmp_path / "x.msgpack") == [2]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "txn", "name": "other"},
        {"type": "data_created", "data": 1},
        {"type": "data_created", "name": None, "data": 1},
        {"name": "untyped", "data": 1},
    ],
    ids=["other-type", "no-name", "none-name", "no-type"],
)
def test_other_messages_are_ignored(tmp_path, message):
    recorder = Recorder(target_dir=str(tmp_path))
    recorder.process_message(message)
    assert list(tmp_path.iterdir()) == []


def test_the_folder_is_created_and_defaults_to_recorded_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorder = Recorder()
    recorder.process_message(created("d", 1))
    assert read_all(tmp_path / "recorded_data" / "d.msgpack") == [1]
    nested = tmp_path / "a" / "b"
    Recorder(target_dir=str(nested))
    assert nested.is_dir()


@pytest.mark.parametrize("name", ["../escaped", "../../deeper", "sub/inner", "/abs/path"])
def test_names_that_leave_the_folder_are_refused(tmp_path, name):
    # mite 2.11 joins the name into a path unchecked, so "../x" writes outside its folder.
    folder = tmp_path / "recorded"
    (folder / "sub").mkdir(parents=True)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    recorder = Recorder(target_dir=str(folder))
    recorder.process_message(created(name, "payload"))
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before


def test_purge_with_an_escaping_name_deletes_nothing(tmp_path):
    folder = tmp_path / "recorded"
    folder.mkdir()
    victim = tmp_path / "victim.msgpack"
    victim.write_bytes(b"keep me")
    Recorder(target_dir=str(folder)).process_message(purged("../victim"))
    assert victim.read_bytes() == b"keep me"
