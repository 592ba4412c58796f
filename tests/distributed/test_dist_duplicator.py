"""`mite duplicator`: PULL bound at --message-socket, every frame PUSHed (bound) to each OUT_SOCKET."""

import signal

import pytest
from distsupport import (
    beyond_reference,
    free_address,
    is_probe,
    pack,
    probe,
    reference_bug,
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


def start_duplicator(deployment, outs, slow=(), **kwargs):
    """A duplicator with `outs` outputs, a PULL connected to each; those whose index is in `slow`
    queue only a few frames on their side until read (a slow consumer)."""
    message = free_address()
    addresses = [free_address() for _ in range(outs)]
    dup = deployment.start("duplicator", f"--message-socket={message}", *addresses, **kwargs)
    pulls = [
        deployment.pull_connect(a, rcvhwm=10 if i in slow else 0) for i, a in enumerate(addresses)
    ]
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
    dup, push, pulls = start_duplicator(deployment, 1, env={"MITE_DEBUG_MESSAGES_TO_DUMP": "4"})
    out = pulls[0]
    sync_outputs(push, pulls, watch=[dup])
    assert dup.stdout() == ""
    dup.signal(signal.SIGUSR1)
    # The signal is handled asynchronously. Both mite 2.11 and ours print a frame before they
    # forward it, so probes go one at a time, each taken back from the output, until one has
    # been printed: from then on the count of N=4 is running, and one is used up.
    sent = []

    def a_probe_was_printed():
        sent.append(probe(len(sent)))
        push.send(sent[-1])
        assert out.recv_raw(10.0) is not None, "a probe was not forwarded"
        return dup.stdout()

    wait_for(a_probe_was_printed, 30, "SIGUSR1 to take effect", watch=[dup])
    assert dup.stdout() == str(unpack(pack(sent[-1]))) + "\n"
    messages = [
        {"type": "txn", "b": b"GET", "t": (1, 2.5, None, True), "it's": "é", 7: {1: -1}},
        {"type": "http_metrics", "total_time": 0.000123, "big": 1718000000.123456, "neg": -3},
        {"type": "error", "message": 'say "hi"', "empty": "", "l": ()},
        {"type": "fourth", "n": 4},
        {"type": "fifth", "n": 5},
    ]
    for m in messages:
        push.send(m)
    push.send(probe("last"))
    forwarded = []
    while not forwarded or not is_probe(forwarded[-1]):
        raw = out.recv_raw(10.0)
        assert raw is not None, f"only {forwarded} came out"
        forwarded.append(unpack(raw))
    assert forwarded[:-1] == [unpack(pack(m)) for m in messages]
    # Everything was forwarded, so everything that was going to be printed has been.
    want = "".join(str(unpack(pack(m))) + "\n" for m in [sent[-1], *messages[:3]])
    assert dup.stdout() == want, "exactly the next N=4 messages are dumped"
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


# 20000 frames of 2 KiB: far more than a ZeroMQ queue (1000 frames) and the loopback TCP buffers
# hold, so a consumer that reads nothing meanwhile makes the duplicator hold a backlog.
BULK = 20000


def bulk_frames():
    return [pack({"type": "bulk", "seq": i, "pad": "x" * 2000}) for i in range(BULK)]


def take(pull, count, what, late_probes=None):
    """The next `count` frames of an output, leaving out sync probes still in flight (appended
    to `late_probes` if given)."""
    got = []
    while len(got) < count:
        raw = pull.recv_raw(15.0)
        assert raw is not None, f"{what}: only {len(got)} of {count} frames came out"
        if not is_probe(unpack(raw)):
            got.append(raw)
        elif late_probes is not None:
            late_probes.append(raw)
    return got


def stop_reading_all(dup, *pulls):
    """SIGINT, then every frame the outputs still deliver until the duplicator has exited and
    nothing more arrives (its last flush goes out while it stops): a list per output."""
    dup.signal(signal.SIGINT)
    got = [[] for _ in pulls]
    while True:
        more = False
        for i, pull in enumerate(pulls):
            raw = pull.recv_raw(0.5)
            if raw is not None:
                got[i].append(raw)
                more = True
        if not more and not dup.alive():
            return got


@reference_bug("the duplicator drops frames an output's queue cannot take (a slow consumer)")
@pytest.mark.dist_timeout(180)
def test_a_slow_consumer_loses_nothing(deployment):
    dup, push, pulls = start_duplicator(deployment, 2, slow=[1])
    fast, slow = pulls
    probes, _ = sync_outputs(push, pulls, watch=[dup])
    sent = bulk_frames()
    for frame in sent:
        push.send_raw(frame)
    # The fast output has everything before the slow one has read a frame: the rest of the slow
    # one's frames are in the duplicator's backlog.
    assert take(fast, BULK, "fast output") == sent
    assert take(slow, BULK, "slow output") == sent, "the slow output lost or reordered frames"
    assert stop_reading_all(dup, slow) == [[]]
    counts = totals(dup.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + dup.stderr()[-3000:]
    assert counts["received"] == probes + BULK, counts
    assert counts["dropped"] == 0 and counts["full"] == 0, counts


@beyond_reference("MITE_DUPLICATOR_BUFFER_BYTES: a per-output backlog, its drops counted")
@pytest.mark.dist_timeout(180)
def test_past_its_buffer_a_slow_consumers_frames_are_dropped_and_counted(deployment):
    dup, push, pulls = start_duplicator(
        deployment, 2, slow=[1], env={"MITE_DUPLICATOR_BUFFER_BYTES": "200000"}
    )
    probes, seen = sync_outputs(push, pulls, watch=[dup])
    sent = bulk_frames()
    for frame in sent:
        push.send_raw(frame)
    # Whatever the outputs got, in order, with what each still gets while the duplicator stops.
    # (The fast one may drop a few too on a loaded machine: its buffer is as small.)
    got = [pulls[0].drain_raw(quiet=2.0), []]
    got[1] = pulls[1].drain_raw(quiet=2.0)
    for mine, tail in zip(got, stop_reading_all(dup, *pulls), strict=True):
        mine.extend(tail)
    late_probes = sum(is_probe(unpack(f)) for out in got for f in out)
    bulk = [[unpack(f)["seq"] for f in out if not is_probe(unpack(f))] for out in got]
    for seqs in bulk:
        assert seqs == sorted(set(seqs)), "an output's frames are out of order"
    assert len(bulk[1]) < BULK, "the slow output lost nothing: its consumer read meanwhile"
    counts = totals(dup.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + dup.stderr()[-3000:]
    assert counts["received"] == probes + BULK, counts
    delivered = sum(seen) + late_probes + len(bulk[0]) + len(bulk[1])
    assert counts["forwarded"] == delivered, counts
    assert counts["full"] == 2 * (probes + BULK) - delivered, counts
    assert counts["dropped"] == counts["full"], counts
    assert "is full" in dup.stderr()
