"""The components at the end of the bus, fed over their sockets: `mite collector`, `mite recorder`
and `mite receiver` (each a PULL connected to its socket; the test binds a PUSH there).

mite 2.11.0's collector writes through an 8 KiB buffer that it never flushes before it dies, so
the tests that read `current` while it runs end their input with one frame bigger than that."""

import json
import re
import signal
import time
from pathlib import Path

from distsupport import (
    beyond_reference,
    free_address,
    pack,
    read_frames,
    reference_bug,
    rolled_files,
    stop_for_totals,
    totals,
    unpack,
    wait_delivered,
    wait_for,
)

PAD = pack({"type": "pad", "pad": "x" * 9000})  # bigger than the reference's write buffer

FRAMES = [
    pack({"type": "txn", "n": 1, "method": b"GET", "t": 1718000000.25, "l": [1, "a", None]}),
    b"\x82\xa4type\xa3txn\xa1n\xce\x00\x00\x00\x05",  # the long way round: must stay so
    pack({"type": "http_metrics", "total_time": 0.5, "map": {1: 2}, "ok": True}),
    pack([1, 2, 3]),
]


class Sink:
    def __init__(self, deployment, component, socket_option, *args, positional=False, impl="ours"):
        self.address = free_address()
        where = self.address if positional else f"{socket_option}={self.address}"
        self.proc = deployment.start(component, where, *args, impl=impl)
        self.push = deployment.push_bind(self.address, watch=[self.proc])
        self.dir = deployment.dir

    def send_all(self, frames):
        for f in frames:
            self.push.send_raw(f)


def file_is(path, want, timeout=60.0, watch=()):
    path = Path(path)
    wait_for(lambda: path.exists() and path.stat().st_size >= len(want), timeout,
             f"{len(want)} bytes in {path}", watch)
    assert path.read_bytes() == want  # neither more nor other bytes


# -- collector -----------------------------------------------------------------------------------


def test_collector_writes_raw_frames_to_current(deployment):
    before = int(time.time())  # before the collector starts: it stamps the file at start
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out")
    sink.send_all(FRAMES + [PAD])
    file_is(sink.dir / "out" / "current", b"".join(FRAMES) + PAD, watch=[sink.proc])
    start = int((sink.dir / "out" / "current_start_time").read_text())
    assert before <= start <= time.time()
    assert sorted(p.name for p in (sink.dir / "out").iterdir()) == ["current", "current_start_time"]


def test_collector_default_folder(deployment):
    sink = Sink(deployment, "collector", "--collector-socket")
    sink.send_all([FRAMES[0], PAD])
    file_is(sink.dir / "collector_data" / "current", FRAMES[0] + PAD, watch=[sink.proc])


def test_collector_rolls_every_n_messages(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-roll=5")
    frames = [pack({"type": "m", "i": i}) for i in range(10)]
    before = int(time.time())
    sink.send_all(frames)
    out = sink.dir / "out"
    wait_for(lambda: len(rolled_files(out)) == 2 and (out / "current").exists(), 10,
             "two rolled files", [sink.proc])
    rolled = rolled_files(out)
    names = [re.fullmatch(r"(\d+)_(\d+)_(\d+)", p.name) for p in rolled]
    assert all(names), [p.name for p in rolled]
    assert [int(m[3]) for m in names] == [0, 1]
    for m in names:
        assert before - 5 <= int(m[1]) <= int(m[2]) <= time.time()
    assert [read_frames(p) for p in rolled] == [
        [unpack(f) for f in frames[:5]],
        [unpack(f) for f in frames[5:]],
    ]
    assert rolled[0].read_bytes() == b"".join(frames[:5])
    assert (out / "current").read_bytes() == b""  # a fresh file after the second roll
    assert len(list(out.iterdir())) == 4


def test_collector_rolls_a_leftover_current_at_start(deployment):
    out = deployment.dir / "out"
    out.mkdir()
    (out / "current").write_bytes(FRAMES[0])
    (out / "current_start_time").write_text("1700000000")
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out")
    sink.send_all([FRAMES[2], PAD])
    file_is(out / "current", FRAMES[2] + PAD, watch=[sink.proc])
    rolled = rolled_files(out)
    assert len(rolled) == 1 and re.fullmatch(r"1700000000_\d+_0", rolled[0].name), rolled
    assert rolled[0].read_bytes() == FRAMES[0]


def test_collector_json_lines(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-use-json")
    messages = [
        {"type": "txn", "n": 1, "f": 0.5, "none": None, "yes": True, "l": [1, [2, "x"]], "d": {"k": 1}},
        {"type": "controller_report", "required": {1: 4}, "actual": {}, "num_runners": 2},
        {"type": "odd", "s": 'quote " backslash \\ newline \n tab \t', "big": 1718000000.125},
    ]
    frames = [pack(m) for m in messages]
    pad = {"type": "pad", "pad": "x" * 9000}
    sink.send_all(frames + [pack(pad)])
    # mite 2.11.0 writes json.dumps() of the decoded frame (arrays as lists, int keys as strings).
    want = b"".join(json.dumps(unpack(f)).encode() + b"\n" for f in frames + [pack(pad)])
    file_is(sink.dir / "out" / "current", want, watch=[sink.proc])


def test_collector_json_floats_and_unicode_parse_back(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-use-json")
    messages = [
        {"type": "f", "values": [0.1, 1e-05, 2.0, -0.0, 1.5e300, 123456789.123456789]},
        {"type": "u", "s": "é ☃ 😀", "ctl": "\x01"},
    ]
    pad = {"type": "pad", "pad": "x" * 9000}
    sink.send_all([pack(m) for m in messages] + [pack(pad)])
    path = sink.dir / "out" / "current"
    wait_for(lambda: path.exists() and path.read_bytes().count(b"\n") == 3, 60, "three lines",
             [sink.proc])
    lines = path.read_bytes().splitlines()
    assert all(line.isascii() for line in lines)  # non-ASCII as \u escapes, as json.dumps does
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps(unpack(pack(m)))) for m in messages + [pad]
    ]


def test_collector_filter(deployment):
    deployment.write_module("filters", """
        def keep(raw):
            assert isinstance(raw, bytes)
            return b"keep" in raw
    """)
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-filter=filters:keep")
    frames = [pack({"type": "m", "what": w}) for w in ("keep", "drop", "keep too", "no")]
    pad = pack({"type": "pad", "keep": "x" * 9000})
    sink.send_all(frames + [pad])
    file_is(sink.dir / "out" / "current", frames[0] + frames[2] + pad, watch=[sink.proc])


@reference_bug("the collector never flushes its file at shutdown: the last 8 KiB are lost")
def test_collector_flushes_at_shutdown(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out")
    sink.send_all(FRAMES)
    wait_delivered(sink.push, watch=[sink.proc])  # the frames are in its socket's queue
    sink.proc.signal(signal.SIGINT)
    sink.proc.wait(5)
    assert (sink.dir / "out" / "current").read_bytes() == b"".join(FRAMES)


@beyond_reference("counting frames and logging the totals at shutdown")
def test_collector_totals_at_shutdown(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-roll=3")
    frames = [pack({"type": "m", "i": i}) for i in range(8)]
    sink.send_all(frames)
    out = sink.dir / "out"
    wait_for(lambda: len(rolled_files(out)) == 2, 60, "two rolled files", [sink.proc])
    wait_delivered(sink.push, watch=[sink.proc])
    sink.proc.signal(signal.SIGINT)
    sink.proc.wait(10)
    counts = totals(sink.proc.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + sink.proc.stderr()[-3000:]
    assert counts.get("received") == 8, counts
    assert counts.get("written") == 8, counts
    assert counts.get("dropped", 0) == 0, counts


# -- recorder ------------------------------------------------------------------------------------


def test_recorder_data_created_and_purge_data(deployment):
    sink = Sink(deployment, "recorder", "--recorder-socket", "--recorder-dir=rec")
    rec = sink.dir / "rec"
    first = (1, "a", b"bytes", None, {"k": [1, 2]})
    second = {"id": 7, "n": 2**40}
    sink.push.send({"type": "data_created", "name": "pool", "data": first})
    sink.push.send({"type": "data_created", "name": "other", "data": "x"})
    sink.push.send({"type": "data_created", "name": "pool", "data": second})
    # Ignored: no name, a None name, another type, not a map at all.
    sink.push.send({"type": "data_created", "data": 1})
    sink.push.send({"type": "data_created", "name": None, "data": 1})
    sink.push.send({"type": "txn", "name": "pool", "data": 1})
    sink.push.send([1, 2])
    # The data is decoded then packed again (arrays stay arrays, bin stays bin).
    want = pack(unpack(pack(first))) + pack(second)
    file_is(rec / "pool.msgpack", want, watch=[sink.proc])
    assert (rec / "other.msgpack").read_bytes() == pack("x")
    sink.push.send({"type": "purge_data", "name": "other"})
    sink.push.send({"type": "purge_data", "name": "never-created"})
    wait_for(lambda: not (rec / "other.msgpack").exists(), 60, "other.msgpack removed", [sink.proc])
    sink.push.send({"type": "data_created", "name": "pool", "data": 3})
    file_is(rec / "pool.msgpack", want + pack(3), watch=[sink.proc])
    assert sorted(p.name for p in rec.iterdir()) == ["pool.msgpack"]
    sink.proc.assert_alive()


def test_recorder_default_folder(deployment):
    sink = Sink(deployment, "recorder", "--recorder-socket")
    sink.push.send({"type": "data_created", "name": "pool", "data": [1]})
    file_is(sink.dir / "recorder_data" / "pool.msgpack", pack([1]), watch=[sink.proc])


@reference_bug("the recorder joins the message's name into a path unchecked: `../` escapes")
def test_recorder_keeps_inside_its_folder(deployment):
    sink = Sink(deployment, "recorder", "--recorder-socket", "--recorder-dir=rec")
    sink.push.send({"type": "data_created", "name": "../escaped", "data": 1})
    absolute = sink.dir / "absolute"
    sink.push.send({"type": "data_created", "name": str(absolute), "data": 1})
    sink.push.send({"type": "data_created", "name": "pool", "data": 2})
    file_is(sink.dir / "rec" / "pool.msgpack", pack(2), watch=[sink.proc])
    assert not (sink.dir / "escaped.msgpack").exists()
    assert not Path(f"{absolute}.msgpack").exists()
    sink.proc.assert_alive()


# -- receiver ------------------------------------------------------------------------------------

PROCESSORS = """
    import os

    OUT = os.path.join(os.getcwd(), "got.txt")


    def note(kind, msg):
        with open(OUT, "a") as f:
            f.write(f"{kind} {type(msg).__name__} {msg!r}\\n")


    class Decoded:
        def process_message(self, msg):
            note("decoded", msg)


    class Raw:
        def process_raw_message(self, raw):
            note("raw", raw)


    class Neither:
        pass


    class Raising:
        def process_message(self, msg):
            if msg.get("boom"):
                raise ValueError("the processor broke")
            note("decoded", msg)
"""

MESSAGES = [
    {"type": "txn", "n": 1, "b": b"GET", "l": [1, 2], "m": {1: None}},
    {"type": "http_metrics", "total_time": 0.25},
]


def got_lines(sink, count):
    path = sink.dir / "got.txt"
    wait_for(lambda: path.exists() and path.read_text().count("\n") >= count, 10,
             f"{count} lines in got.txt", [sink.proc])
    return path.read_text().splitlines()


def test_receiver_gives_processors_decoded_messages(deployment):
    deployment.write_module("procs", PROCESSORS)
    sink = Sink(deployment, "receiver", None, "--processor=procs:Decoded", positional=True)
    sink.send_all([pack(m) for m in MESSAGES])
    assert got_lines(sink, 2) == [f"decoded dict {unpack(pack(m))!r}" for m in MESSAGES]
    sink.proc.assert_alive()


@reference_bug("`mite receiver` registers process_raw_message as a listener of decoded messages")
def test_receiver_gives_raw_processors_the_frame(deployment):
    deployment.write_module("procs", PROCESSORS)
    sink = Sink(deployment, "receiver", None, "--processor=procs:Raw", positional=True)
    frames = [pack(m) for m in MESSAGES]
    sink.send_all(frames)
    assert got_lines(sink, 2) == [f"raw bytes {f!r}" for f in frames]


def test_receiver_with_two_processors(deployment):
    deployment.write_module("procs", PROCESSORS)
    sink = Sink(deployment, "receiver", None, "--processor=procs:Decoded",
                "--processor=procs:Decoded", positional=True)
    sink.send_all([pack(MESSAGES[0])])
    assert got_lines(sink, 2) == [f"decoded dict {unpack(pack(MESSAGES[0]))!r}"] * 2


def test_receiver_refuses_a_processor_without_either_method(deployment):
    deployment.write_module("procs", PROCESSORS)
    address = free_address()
    proc = deployment.start("receiver", address, "--processor=procs:Neither")
    proc.wait(20)
    assert "procs:Neither" in proc.stderr()
    assert "process_message" in proc.stderr()


@beyond_reference("a processor that raises is logged and the receiver goes on")
def test_receiver_goes_on_after_a_processor_raises(deployment):
    deployment.write_module("procs", PROCESSORS)
    sink = Sink(deployment, "receiver", None, "--processor=procs:Raising", positional=True)
    ok = {"type": "txn", "n": 2}
    sink.send_all([pack({"type": "txn", "boom": True}), pack(ok)])
    assert got_lines(sink, 1) == [f"decoded dict {unpack(pack(ok))!r}"]
    sink.proc.assert_alive()
    assert "the processor broke" in sink.proc.stderr()  # logged (with the processor's stack)


@beyond_reference("the receiver skips bad frames and logs a totals line when stopped")
def test_receiver_totals_count_bad_frames_and_failed_processors(deployment):
    deployment.write_module("procs", PROCESSORS)
    sink = Sink(deployment, "receiver", None, "--processor=procs:Raising", positional=True)
    ok = {"type": "txn", "n": 2}
    sink.send_all([b"\xc1", pack({"type": "txn", "boom": True}), pack(ok)])
    assert got_lines(sink, 1) == [f"decoded dict {unpack(pack(ok))!r}"]
    assert stop_for_totals(sink.proc) == {"received": 3, "malformed": 1, "failed": 1}


@beyond_reference("--collector-use-json writes bytes as text (mite 2.11's json.dumps raises)")
def test_collector_json_writes_bytes_as_text(deployment):
    sink = Sink(deployment, "collector", "--collector-socket", "--collector-dir=out",
                "--collector-use-json")
    messages = [
        {"type": "http_metrics", "method": b"GET", "nested": [b"a", {"k": b"\xc3\xa9"}]},
        {"type": "txn", "n": 1},
    ]
    frames = [pack(m) for m in messages]
    sink.send_all(frames)
    # Python's json.dumps with bytes decoded as UTF-8 text.
    want = b"".join(
        json.dumps(unpack(f), default=lambda b: b.decode()).encode() + b"\n" for f in frames
    )
    file_is(sink.dir / "out" / "current", want, watch=[sink.proc])
