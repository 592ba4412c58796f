"""mite.zmq's classes against real peers: the native components, pyzmq, and mite 2.11.0's own."""

import asyncio
import threading

import pytest
import zmq as pyzmq
from surface_zmqcli_support import (
    REF_PYTHON,
    Feeder,
    Procs,
    free_address,
    pack,
    read_frames,
    unpack,
    wait_for,
    write_module,
)

import mite.zmq
from mite.config import ConfigManager
from mite.controller import Controller
from mite.scenario import ScenarioManager, StopVolumeModel
from mite.zmq import ControllerServer, Duplicator, Receiver, RunnerTransport, Sender

# Messages exercising the wire format: bytes stay bin, lists come back as tuples, map keys may be
# ints or tuples, floats and None survive.
MESSAGES = [
    {"type": "txn", "n": i, "method": b"GET", "labels": [1, "a"], "t": 0.25 * i, "none": None}
    for i in range(50)
] + [{"type": "odd", "keys": {1: "int", (2, "x"): "tuple"}}]

SCENARIO = """
    import asyncio

    from mite.scenario import StopVolumeModel


    async def journey(ctx, arg):
        async with ctx.transaction("surface"):
            await asyncio.sleep(0.01)


    def volume_model(start, end):
        if start > 1.5:
            raise StopVolumeModel
        return 2


    class Pool:
        def __init__(self):
            self.n = 0

        async def checkout(self, config):
            from mite.datapools import DataPoolItem

            self.n += 1
            return DataPoolItem(self.n, (self.n,))

        async def checkin(self, item_id):
            pass


    def scenario():
        return [["surface_mod:journey", Pool(), volume_model]]
"""


@pytest.fixture
def procs(tmp_path):
    started = Procs(tmp_path)
    yield started
    started.close()


class Collecting:
    """A Receiver run through its async `run` on a thread of its own, keeping what arrives."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.messages, self.raw = [], []
        receiver.add_listener(self.messages.append)
        receiver.add_raw_listener(self.raw.append)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(receiver.run(self.stop.is_set)))
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "Receiver.run did not return after stop_func"
        self.receiver.close()


def expected(messages):
    return [unpack(pack(m)) for m in messages]


def test_sender_feeds_native_duplicator_and_collector_and_a_receiver_reads_it(procs, tmp_path):
    message_addr, collector_addr, receiver_addr = free_address(), free_address(), free_address()
    dup = procs.mite("duplicator", f"--message-socket={message_addr}", collector_addr, receiver_addr, label="dup")
    col = procs.mite("collector", f"--collector-socket={collector_addr}", "--collector-dir=cdata", label="col")
    receiver = Receiver()
    receiver.connect(receiver_addr)
    got = Collecting(receiver)
    sender = Sender()
    sender.connect(message_addr)
    try:
        for msg in MESSAGES:
            sender.send(msg)
        current = tmp_path / "cdata" / "current"
        wait_for(lambda: current.exists() and len(read_frames(current)) == len(MESSAGES), "the collector's frames", procs=[dup, col])
        wait_for(lambda: len(got.messages) == len(MESSAGES), "the receiver's messages", procs=[dup, col])
    finally:
        got.close()
        sender.close()
    assert read_frames(tmp_path / "cdata" / "current") == expected(MESSAGES)
    assert got.messages == expected(MESSAGES)
    assert got.raw == [pack(m) for m in MESSAGES]
    assert got.messages[0]["method"] == b"GET" and got.messages[0]["labels"] == (1, "a")
    assert got.messages[-1]["keys"] == {1: "int", (2, "x"): "tuple"}
    assert receiver.counts == {"received": len(MESSAGES), "malformed": 0, "oversize": 0, "failed": 0}
    assert dup.stop() == 0 and col.stop() == 0


def test_receiver_reads_what_a_native_controller_and_runner_push(procs, tmp_path):
    write_module(tmp_path, "surface_mod", SCENARIO)
    controller_addr, message_addr = free_address(), free_address()
    receiver = Receiver()
    receiver.bind(message_addr)
    got = Collecting(receiver)
    try:
        ctl = procs.mite("controller", "surface_mod:scenario", f"--controller-socket={controller_addr}",
                         f"--message-socket={message_addr}", label="controller")
        run = procs.mite("runner", f"--controller-socket={controller_addr}", f"--message-socket={message_addr}",
                         label="runner")
        assert run.wait(60) == 0, run.output()
        assert ctl.wait(60) == 0, ctl.output()
        wait_for(lambda: [m for m in got.messages if m.get("type") == "controller_report"], "a controller report")
    finally:
        got.close()
    txns = [m for m in got.messages if m.get("type") == "txn" and m.get("transaction") == "__root__ :: surface"]
    assert txns, got.messages[:5]
    assert {m["journey"] for m in txns} == {"surface_mod:journey"}
    assert all(m["runner_id"] == 1 and m["had_error"] is False for m in txns)
    report = [m for m in got.messages if m.get("type") == "controller_report"][0]
    assert report["test"] == "surface_mod:scenario" and set(report) >= {"required", "actual", "num_runners"}


def test_runner_transport_talks_to_the_native_controller(procs, tmp_path):
    write_module(tmp_path, "surface_mod", SCENARIO)
    controller_addr, message_addr = free_address(), free_address()
    sink = Receiver()
    sink.bind(message_addr)  # the controller's reports go somewhere
    got = Collecting(sink)
    ctl = procs.mite("controller", "surface_mod:scenario", f"--controller-socket={controller_addr}",
                     f"--message-socket={message_addr}", "--add-to-config=colour:blue", label="controller")
    transport = RunnerTransport(controller_addr)

    async def talk():
        runner_id, test_name, config = await transport.hello()
        work, stop = [], False
        for _ in range(200):
            work, config_update, stop = await transport.request_work(runner_id, {}, [], 10)
            if work or stop:
                break
            await asyncio.sleep(0.05)
        bye = await transport.bye(runner_id)
        return runner_id, test_name, config, work, stop, bye

    try:
        runner_id, test_name, config, work, stop, bye = asyncio.run(asyncio.wait_for(talk(), 60))
        assert ctl.wait(60) == 0, ctl.output()
    finally:
        got.close()
        transport.close()
    assert runner_id == 1 and test_name == "surface_mod:scenario"
    assert ("colour", "blue") in config
    assert work and not stop
    scenario_id, data_id, journey_spec, args = work[0]
    assert journey_spec == "surface_mod:journey" and args == (data_id,)
    assert bye is None


def test_controller_server_serves_the_native_runner(procs, tmp_path):
    write_module(tmp_path, "surface_mod", SCENARIO)
    controller_addr, message_addr = free_address(), free_address()
    receiver = Receiver()
    receiver.bind(message_addr)
    got = Collecting(receiver)

    def volume_model(start, end):
        if start > 1.5:
            raise StopVolumeModel
        return 1

    scenario_manager = ScenarioManager(period=0.2)
    scenario_manager.add_scenario("surface_mod:journey", None, volume_model)
    controller = Controller("served", scenario_manager, ConfigManager())
    server = ControllerServer(controller_addr)
    run = procs.mite("runner", f"--controller-socket={controller_addr}", f"--message-socket={message_addr}",
                     label="runner")
    try:
        asyncio.run(asyncio.wait_for(server.run(controller, controller.should_stop), 60))
        assert run.wait(60) == 0, run.output()
    finally:
        got.close()
        server.close()
    assert server.counts["malformed"] == 0 and server.counts["requests"] >= 3
    txns = [m for m in got.messages if m.get("type") == "txn" and m.get("test") == "served"]
    assert txns and {m["journey"] for m in txns} == {"surface_mod:journey"}


def test_controller_server_answers_a_bad_request_with_none_and_lives():
    address = free_address()
    controller = Controller("bad", ScenarioManager(), ConfigManager())
    server = ControllerServer(address)
    ctx = pyzmq.Context()
    req = ctx.socket(pyzmq.REQ)
    req.connect(address)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(server.run(controller, stop.is_set)))
    thread.start()
    try:
        answers = []
        for frame in (b"\xc1", pack([9, None]), pack([2, "not four fields"]), pack([1, None])):
            req.send(frame)
            assert req.poll(10_000), "no answer"
            answers.append(unpack(req.recv()))
    finally:
        stop.set()
        thread.join(10)
        req.close(0)
        ctx.term()
        server.close()
    assert answers[:3] == [None, None, None]
    assert answers[3] == (1, "bad", ())
    assert server.counts == {"requests": 4, "malformed": 3}


def test_pyzmq_peers_read_and_write_the_same_frames():
    out_addr, in_addr = free_address(), free_address()
    ctx = pyzmq.Context()
    pull = ctx.socket(pyzmq.PULL)
    push = ctx.socket(pyzmq.PUSH)
    sender = Sender()
    sender.bind(out_addr)
    pull.connect(out_addr)
    receiver = Receiver()
    receiver.bind(in_addr)
    push.connect(in_addr)
    got = Collecting(receiver)
    try:
        for msg in MESSAGES:
            sender.send(msg)
        frames = []
        while len(frames) < len(MESSAGES):
            assert pull.poll(10_000), "pyzmq received nothing"
            frames.append(pull.recv())
        for frame in frames:
            push.send(frame)
        wait_for(lambda: len(got.messages) == len(MESSAGES), "the receiver's messages")
    finally:
        got.close()
        sender.close(0)
        pull.close(0)
        push.close(0)
        ctx.term()
    assert frames == [pack(m) for m in MESSAGES]
    assert got.messages == expected(MESSAGES)


def test_oversize_and_malformed_frames_are_counted_and_skipped(monkeypatch):
    monkeypatch.setattr(mite.zmq, "MAX_FRAME_BYTES", 1000)
    address = free_address()
    ctx = pyzmq.Context()
    push = ctx.socket(pyzmq.PUSH)
    receiver = Receiver()
    receiver.bind(address)
    push.connect(address)
    failures = []

    def fussy(msg):
        if msg.get("boom"):
            failures.append(msg)
            raise RuntimeError("listener failure")

    receiver.add_listener(fussy)
    got = Collecting(receiver)
    try:
        for frame in (pack({"big": "x" * 2000}), b"\x82\xa1a\x01", pack({"boom": True}), pack({"ok": 1})):
            push.send(frame)
        wait_for(lambda: got.messages and got.messages[-1] == {"ok": 1}, "the last good message")
    finally:
        got.close()
        push.close(0)
        ctx.term()
    assert got.messages == [{"boom": True}, {"ok": 1}]
    assert got.raw == [b"\x82\xa1a\x01", pack({"boom": True}), pack({"ok": 1})]
    assert failures == [{"boom": True}]
    assert receiver.counts == {"received": 4, "malformed": 1, "oversize": 1, "failed": 1}


def test_max_frame_bytes_is_read_as_the_native_components_read_it(procs):
    import subprocess
    import sys

    def limit(value):
        env = {"MITE_MAX_FRAME_BYTES": value}
        out = subprocess.run([sys.executable, "-c", "import mite.zmq; print(mite.zmq.MAX_FRAME_BYTES)"],
                             env=env, capture_output=True, text=True, timeout=60, check=True)
        return int(out.stdout)

    assert limit("1000") == 1000
    assert limit(" 2048 ") == 2048
    assert limit("abc") == limit("0") == limit("-5") == limit("1_000") == 64 << 20


def test_python_duplicator_copies_to_every_output_and_stops():
    in_addr, out1, out2 = free_address(), free_address(), free_address()
    duplicator = Duplicator(in_addr, [out1, out2])
    receivers = []
    for address in (out1, out2):
        receiver = Receiver()
        receiver.connect(address)
        receivers.append(Collecting(receiver))
    stop = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(duplicator.run(stop.is_set)))
    thread.start()
    sender = Sender()
    sender.connect(in_addr)
    # As in 2.11, an output nobody is connected to yet drops: probe until both are connected.
    probing = Feeder(sender, forever={"type": "probe"})
    try:
        for got in receivers:
            wait_for(lambda got=got: got.messages, "both outputs connected")
        probing.stopping.set()
        probing.wait()
        for msg in MESSAGES:
            sender.send(msg)
        for got in receivers:
            wait_for(lambda got=got: [m for m in got.messages if m["type"] != "probe"] == expected(MESSAGES), "both outputs")
    finally:
        stop.set()
        thread.join(10)
        for got in receivers:
            got.close()
        probing.close()
        duplicator.close()
    assert not thread.is_alive()
    counts = duplicator.counts
    assert counts["received"] == probing.sent + len(MESSAGES) and counts["oversize"] == 0
    assert counts["forwarded"] + counts["full"] == 2 * counts["received"]


def test_sender_without_an_endpoint_says_so():
    with pytest.raises(RuntimeError, match="neither bound nor connected"):
        Sender().send({"a": 1})


REF_SENDER = """
    import sys
    import time
    from pathlib import Path

    from mite.zmq import Sender

    sender = Sender()
    sender.connect(sys.argv[1])
    for i in range(20):
        sender.send({"from": "2.11", "i": i, "b": b"raw", "l": [i]})
    # Stay until the other side has everything: pyzmq may drop queued frames at exit.
    deadline = time.time() + 60
    while not Path("done").exists() and time.time() < deadline:
        time.sleep(0.05)
"""

REF_RECEIVER = """
    import asyncio
    import sys

    from mite.zmq import Receiver

    out = open("ref_received.txt", "w")

    def keep(msg):
        out.write(repr(msg) + "\\n")
        out.flush()

    receiver = Receiver()
    receiver.connect(sys.argv[1])
    receiver.add_listener(keep)
    asyncio.new_event_loop().run_until_complete(receiver.run())
"""


def test_interoperates_with_mite_2_11_zmq(procs, tmp_path):
    assert REF_PYTHON.exists(), f"mite 2.11.0 is missing at {REF_PYTHON}: run `make ref-venv`"
    from_ref, to_ref = free_address(), free_address()
    receiver = Receiver()
    receiver.bind(from_ref)
    got = Collecting(receiver)
    sender = Sender()
    sender.bind(to_ref)
    write_module(tmp_path, "ref_sender", REF_SENDER)
    write_module(tmp_path, "ref_receiver", REF_RECEIVER)
    ref_send = procs.start([REF_PYTHON, tmp_path / "ref_sender.py", from_ref], "ref_sender")
    ref_recv = procs.start([REF_PYTHON, tmp_path / "ref_receiver.py", to_ref], "ref_receiver")
    ours = [{"from": "ours", "i": i, "b": b"raw", "l": [i], "k": {1: (2, 3)}} for i in range(20)]
    received = tmp_path / "ref_received.txt"
    try:
        wait_for(lambda: len(got.messages) == 20, "2.11's messages", procs=[ref_send])
        (tmp_path / "done").touch()
        for msg in ours:
            sender.send(msg)
        wait_for(lambda: received.exists() and len(received.read_text().splitlines()) == 20,
                 "2.11's receiver", procs=[ref_recv])
    finally:
        got.close()
        sender.close(0)
    assert got.messages == [{"from": "2.11", "i": i, "b": b"raw", "l": (i,)} for i in range(20)]
    assert received.read_text().splitlines() == [repr(m) for m in expected(ours)]


def test_a_cancelled_run_loses_no_frame_and_keeps_the_order():
    address = free_address()
    ctx = pyzmq.Context()
    push = ctx.socket(pyzmq.PUSH)
    receiver = Receiver()
    receiver.bind(address)
    push.connect(address)
    got = []
    receiver.add_listener(got.append)

    async def main():
        for i in range(30):
            task = asyncio.ensure_future(receiver.run())
            push.send(pack({"i": i}))
            await asyncio.sleep(0.01 * (i % 4))
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(receiver.run(lambda: len(got) >= 30), 30)

    try:
        asyncio.run(main())
    finally:
        push.close(0)
        ctx.term()
        receiver.close()
    assert [m["i"] for m in got] == list(range(30))
