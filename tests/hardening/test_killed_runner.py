"""A runner killed with SIGKILL loses at most what it produced in its last few milliseconds: the
pipeline sends a partial batch within 10 ms instead of holding up to 200 ms of messages."""

import subprocess
import sys
import textwrap

import harness

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from mite import _native

    pipeline = _native.LocalPipeline(collector_dir=None, recorder_dir=None, console=False,
                                     log_messages=False, forward=sys.argv[1])
    for i in range(50):
        pipeline.sink.send({"type": "http_metrics", "i": i})
        time.sleep(0.005)
    # 5 times the bound: what was sent before this has left the process (mite 2.11 sent each
    # message at once; a 200 ms batch tick lost ~12 of these 50).
    time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_runner_has_sent_what_it_produced():
    lost = []
    for _ in range(3):
        address = harness.free_address()
        pull = harness.Puller(address)
        try:
            child = subprocess.run([sys.executable, "-c", CHILD, address], timeout=60)
            assert child.returncode == -9
            got = pull.drain(1.0)
        finally:
            pull.close()
        lost.append(50 - len(got))
    assert max(lost) <= 1, f"messages lost per killed runner: {lost}"
