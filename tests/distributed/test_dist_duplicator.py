"""`mite duplicator`: PULL bound at --message-socket, every frame PUSHed (bound) to each OUT_SOCKET."""

import signal
import time

import pytest
from distsupport import (
    beyond_reference,
    free_address,
    pack,
    sync_outputs,
    totals,
    unpack,
    wait_for,
)

# Valid msgpack, some of it encoded the long way round (a fixint as uint32, a short str as str16),
# so that a duplicator decoding and re-encoding frames would change their bytes.
ODD_FRAMES = [
    b"\x82\xa4type\xa3txn\xa1n\xce\x00\x00\x00\x05",
    b"\x81\xa4type\xda\x00\x0chttp_metrics",
    b"\x93\x01\xc0\xc3",
]


def frames(count):
    out = []
    for i in range(count):
        out.append(
            pack(
                {
                    "type": "http_metrics" if i % 2 else "txn",
                    "seq": i,
                    "method": b"GET",
                    "total_time": i / 1000,
                    "nested": {"list": [i, str(i), None, True], "map": {1: "one"}},
                }
            )
        )
        if i % 50 == 0:
            out.append(ODD_FRAMES[(i // 50) % len(ODD_FRAMES)])
    return out


def start_duplicator(deployment, outs, **kwargs):
    message = free_address()
    addresses = [free_address() for _ in range(outs)]
    dup = deployment.start("duplicator", f"--message-socket={message}", *addresses, **kwargs)
    pulls = [deployment.pull_connect(a) for a in addresses]
    push = deployment.push_connect(message)
    return dup, push, pulls


@pytest.mark.parametrize("outs", [1, 3])
def test_frames_come_out_unchanged_and_in_order_on_every_output(deployment, outs):
    dup, push, pulls = start_duplicator(deployment, outs)
    sync_outputs(push, pulls, watch=[dup])
    sent = frames(300)
    for frame in sent:
        push.send_raw(frame)
    for i, pull in enumerate(pulls):
        got = []
        while len(got) < len(sent):
            raw = pull.recv_raw(5.0)
            assert raw is not None, f"output {i}: only {len(got)} of {len(sent)} frames came out"
            got.append(raw)
        assert got == sent, f"output {i} changed or reordered frames"
        assert pull.recv_raw(0.3) is None, f"output {i}: more frames than were sent"
    dup.assert_alive()


def test_two_senders_are_both_forwarded(deployment):
    """Runners and the controller all connect to the same message socket."""
    dup, push, pulls = start_duplicator(deployment, 2)
    second = deployment.push_connect(push.address)
    sync_outputs(push, pulls, watch=[dup])
    sync_outputs(second, pulls, watch=[dup])
    a = [pack({"type": "a", "i": i}) for i in range(100)]
    b = [pack({"type": "b", "i": i}) for i in range(100)]
    for fa, fb in zip(a, b, strict=True):
        push.send_raw(fa)
        second.send_raw(fb)
    for pull in pulls:
        got = pull.drain_raw(quiet=1.0)
        # Fair-queued between the two senders, but each sender's frames keep their order.
        assert [f for f in got if unpack(f)["type"] == "a"] == a
        assert [f for f in got if unpack(f)["type"] == "b"] == b


def test_sigusr1_dumps_the_next_n_messages_to_stdout(deployment):
    dup, push, pulls = start_duplicator(deployment, 1, env={"MITE_DEBUG_MESSAGES_TO_DUMP": "3"})
    sync_outputs(push, pulls, watch=[dup])
    assert dup.stdout() == ""
    dup.signal(signal.SIGUSR1)
    time.sleep(1.0)  # the handler runs asynchronously; nothing tells us when it has
    dup.assert_alive("after SIGUSR1")
    messages = [
        {"type": "txn", "b": b"GET", "t": (1, 2.5, None, True), "it's": "é", 7: {1: -1}},
        {"type": "http_metrics", "total_time": 0.000123, "big": 1718000000.123456, "neg": -3},
        {"type": "error", "message": 'say "hi"', "empty": "", "l": ()},
        {"type": "fourth", "n": 4},
        {"type": "fifth", "n": 5},
    ]
    for m in messages:
        push.send(m)
    forwarded = [unpack(f) for f in pulls[0].drain_raw(quiet=0.5)]
    assert forwarded == [unpack(pack(m)) for m in messages]
    want = "".join(str(unpack(pack(m))) + "\n" for m in messages[:3])
    wait_for(lambda: dup.stdout() == want, 5, "the first three messages on stdout", watch=[dup])
    time.sleep(0.5)
    assert dup.stdout() == want, "only the next N=3 messages are dumped"
    dup.assert_alive()


@beyond_reference("counting frames and logging the totals at shutdown")
def test_totals_at_shutdown(deployment):
    dup, push, pulls = start_duplicator(deployment, 1)
    probes, probes_seen = sync_outputs(push, pulls, watch=[dup])
    for frame in frames(100):
        push.send_raw(frame)
    sent = push.sent
    assert sent == probes + len(frames(100))
    after = len(pulls[0].drain_raw(quiet=1.0))
    assert after == len(frames(100))
    seen = probes_seen[0] + after
    dup.signal(signal.SIGINT)
    dup.wait(10)
    counts = totals(dup.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + dup.stderr()[-3000:]
    assert counts.get("received") == sent, counts
    assert counts.get("forwarded") == seen, counts
    if "dropped" in counts:
        assert counts["forwarded"] + counts["dropped"] == sent, counts
