"""A runner killed with SIGKILL has already sent what it produced: the pipeline sends partial
batches while the run goes on, not only the full ones or at shutdown (mite 2.11 sent each
message at once). How soon (the 10 ms MAX_WAIT) is speed: measured by the fault campaign
(`make faults`, docs/RELIABILITY.md) and in docs/BENCHMARKS.md, *Pipeline wait*."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import harness
import msgpack
import zmq

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from mite import _native

    pipeline = _native.LocalPipeline(collector_dir=None, recorder_dir=None, console=False,
                                     log_messages=False, forward=sys.argv[1])
    for i in range(50):  # far less than a full batch (256)
        pipeline.sink.send({"type": "http_metrics", "i": i})
    # Neither finish nor exit: the test kills this process once it holds all 50 (or gives up).
    deadline = time.monotonic() + 60
    while not Path(sys.argv[2]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_runner_has_sent_what_it_produced(tmp_path):
    address = harness.free_address()
    pull = harness.Puller(address)
    got_all = Path(tmp_path / "got-all")
    child = subprocess.Popen([sys.executable, "-c", CHILD, address, str(got_all)])
    got = []
    try:
        # Generous: the child waits for this file; only a pipeline holding the frames back
        # makes the 60 s run out.
        deadline = time.monotonic() + 60
        while len(got) < 50 and time.monotonic() < deadline:
            if pull.sock.poll(1000, zmq.POLLIN):
                got.append(msgpack.unpackb(pull.sock.recv(), raw=False))
        got_all.touch()
        assert child.wait(90) == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        pull.close()
    assert [m["i"] for m in got] == list(range(50)), f"{len(got)} of 50 arrived before the kill"
