"""`mite stats`: PULL connected to --stats-in-socket, lists of stat dumps PUSHed (connected) to
--stats-out-socket. The test binds both ends, feeds known messages and decodes what comes out.

mite 2.11.0 only dumps when a message arrives 0.25 s or more after its last dump, so the tests that
must pass on it send a trailing message; ours also dumps on an idle timer and at shutdown."""

import contextlib
import signal
import time

import pytest
from distsupport import (
    PROBE_TYPE,
    beyond_reference,
    free_address,
    merge_dumps,
    needs_ref,
    reference_bug,
    totals,
    unpack,
    wait_delivered,
    wait_for,
    without_reference_extras,
)

MITE_STATS = [
    "mite_journey_error_total",
    "mite_transaction_total",
    "mite_actual_count",
    "mite_required_count",
    "mite_runner_count",
]
HTTP_STATS = ["mite_http_response_total", "mite_http_response_time_seconds"]
DEFAULT_BINS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
KEY_ORDER = {
    "Counter": ["type", "name", "metrics", "labels"],
    "Gauge": ["type", "name", "metrics", "labels"],
    "Histogram": ["type", "name", "bin_counts", "sums", "total_counts", "bins", "labels"],
}

IDS = {
    "test": "dist:scenario",
    "runner_id": 1,
    "journey": "dist:journey",
    "context_id": 1,
    "scenario_id": 1,
    "scenario_data_id": None,
}


def msg(type_, transaction="__root__ :: get", **fields):
    return {**fields, "type": type_, "time": 1718000000.5, **IDS, "transaction": transaction,
            "transaction_id": 2}


def http(total_time, method=b"GET", code=200, transaction="__root__ :: get"):
    return msg("http_metrics", transaction, effective_url="http://127.0.0.1/", response_code=code,
               dns_time=0.0, connect_time=0.0, tls_time=0.0, transfer_start_time=0.0,
               first_byte_time=0.0, total_time=total_time, primary_ip="127.0.0.1",
               method=method, download_size=3.0)


# Powers of two (exact in binary), one in each interesting bin, so sums compare exactly.
TIMES = [2**-14, 2**-7, 0.25, 0.75, 100.0]

MESSAGES = [
    msg("txn", start_time=1.0, end_time=2.0, had_error=False),
    msg("txn", start_time=1.0, end_time=2.0, had_error=False),
    msg("txn", "__root__", start_time=1.0, end_time=2.0, had_error=True),
    msg("exception", message="boom", ex_type="ValueError", location="dist.py:9:journey",
        stacktrace="Traceback..."),
    msg("exception", message="boom", ex_type="ValueError", location="dist.py:9:journey",
        stacktrace="Traceback..."),
    msg("error", message="oops", ex_type="MiteError", location="dist.py:12:journey", code=7),
    {"type": "exception", "test": "t2"},  # every other label missing: ""
    *[http(t) for t in TIMES],
    http(2**-5, method=b"POST", code=500, transaction="__root__ :: post"),
    msg("txn", start_time=1.0, end_time=2.0, had_error=False),
    {"type": "controller_report", "time": 1.0, "test": "dist:scenario", "required": {1: 4, 2: 1},
     "actual": {1: 3}, "num_runners": 1},
    {"type": "controller_report", "time": 2.0, "test": "dist:scenario", "required": {1: 4, 2: 1},
     "actual": {1: 4, 2: 1}, "num_runners": 2},
    {"type": "user_message", "anything": [1, 2]},  # matches no stat
]

GET = ("dist:scenario", "dist:journey", "__root__ :: get")
EXPECTED = {
    "mite_journey_error_total": {
        "type": "Counter",
        "labels": ("test", "journey", "transaction", "location", "ex_type", "message"),
        "metrics": {
            (*GET, "dist.py:9:journey", "ValueError", "boom"): 2,
            (*GET, "dist.py:12:journey", "MiteError", "oops"): 1,
            ("t2", "", "", "", "", ""): 1,
        },
    },
    "mite_transaction_total": {
        "type": "Counter",
        "labels": ("test", "journey", "transaction", "had_error"),
        "metrics": {(*GET, False): 3, ("dist:scenario", "dist:journey", "__root__", True): 1},
    },
    "mite_actual_count": {
        "type": "Gauge",
        "labels": ("test", "scenario_id"),
        "metrics": {("dist:scenario", 1): 4, ("dist:scenario", 2): 1},
    },
    "mite_required_count": {
        "type": "Gauge",
        "labels": ("test", "scenario_id"),
        "metrics": {("dist:scenario", 1): 4, ("dist:scenario", 2): 1},
    },
    "mite_runner_count": {
        "type": "Gauge",
        "labels": ("test",),
        "metrics": {("dist:scenario",): 2},
    },
    "mite_http_response_total": {
        "type": "Counter",
        "labels": ("test", "journey", "transaction", "method", "response_code"),
        "metrics": {
            (*GET, b"GET", 200): 5,
            ("dist:scenario", "dist:journey", "__root__ :: post", b"POST", 500): 1,
        },
    },
    "mite_http_response_time_seconds": {
        "type": "Histogram",
        "labels": ("transaction",),
        "bins": DEFAULT_BINS,
        # value <= bin, so the counts are cumulative; 100.0 is in no bin, only in the total.
        "bin_counts": {
            ("__root__ :: get",): (1, 1, 2, 2, 2, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4),
            ("__root__ :: post",): (0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        },
        "sums": {("__root__ :: get",): sum(TIMES), ("__root__ :: post",): 2**-5},
        "total_counts": {("__root__ :: get",): 5, ("__root__ :: post",): 1},
    },
}


# Counted by every processor configuration the tests use: mite's txn counter and mite_http's.
FLUSH = "dist_flush_marker"
FLUSH_MARKERS = [
    msg("txn", FLUSH, had_error=False),
    {**http(0.25, transaction=FLUSH), "test": FLUSH},
]


def _keys(stat):
    for field in ("metrics", "bin_counts", "sums", "total_counts"):
        yield from stat.get(field, {})


def marker_keys(dumps):
    return [key for dump in dumps for stat in dump for key in _keys(stat)]


def without_markers(dump):
    """The dump with every metric whose labels hold the flush marker taken out."""
    out = []
    for stat in dump:
        stat = dict(stat)
        for field in ("metrics", "bin_counts", "sums", "total_counts"):
            if field in stat:
                stat[field] = {k: v for k, v in stat[field].items() if FLUSH not in k}
        out.append(stat)
    return out


class StatsUnderTest:
    """A stats component between a bound PUSH (its input) and a bound PULL (its output)."""

    def __init__(self, deployment, *args, impl="ours", env=None):
        self.in_address = free_address()
        self.out_address = free_address()
        self.out = deployment.pull_bind(self.out_address)
        self.proc = deployment.start(
            "stats",
            f"--stats-in-socket={self.in_address}",
            f"--stats-out-socket={self.out_address}",
            *args,
            impl=impl,
            env=env,
        )
        self.push = deployment.push_bind(self.in_address, watch=[self.proc])
        self.dumps = []

    def ready(self, timeout=60.0):
        """Sends messages no stat matches until a dump comes out: stats is connected at both ends
        and (for mite 2.11.0, which dumps on the first message 0.25 s after it starts) running."""
        deadline = time.monotonic() + timeout
        while True:
            self.push.send({"type": PROBE_TYPE})
            raw = self.out.recv_raw(0.1)
            if raw is not None:
                self.dumps.append(self.decode(raw))
                return
            self.proc.assert_alive("before its first dump")
            assert time.monotonic() < deadline, f"no dump within {timeout} s of messages"

    def feed(self, messages):
        for m in messages:
            self.push.send(m)

    def collect(self, quiet=1.2, limit=20.0):
        """Every dump until none arrives for `quiet` seconds, added to self.dumps and returned."""
        got = [self.decode(raw) for raw in self.out.drain_raw(quiet=quiet, limit=limit)]
        self.dumps.extend(got)
        return got

    def decode(self, raw):
        dump = unpack(raw)
        assert isinstance(dump, tuple), f"a dump is a list of stats, not {dump!r}"
        # Both register mite_finagle's, mite_kafka's and mite_selenium's stats too; the tests
        # are about mite's and mite_http's.
        return without_reference_extras(dump)

    def flush(self):
        """Collects the dumps of everything fed so far (as `self.dumps`), stops stats, and returns
        the dumps merged. Ours dumps what is left when stopped, and must exit 0. The reference
        dumps only while processing a message 0.25 s or more after its last dump and never exits
        on SIGINT, so it gets flush markers (counted messages of a label of their own) until a
        dump holds one: that dump covers everything before it. The markers are then taken out."""
        if self.proc.is_ref:
            def a_marker_was_dumped():
                self.feed(FLUSH_MARKERS)
                self.collect(quiet=0.5, limit=2.0)
                return any(FLUSH in key for key in marker_keys(self.dumps))

            wait_for(a_marker_was_dumped, 60, "a dump holding a flush marker", [self.proc])
            self.dumps[:] = [without_markers(d) for d in self.dumps]
        else:
            wait_delivered(self.push, watch=[self.proc])
        rc = self.proc.stop()
        if not self.proc.is_ref:
            assert rc == 0, self.proc.describe()
            self.collect(quiet=0.5)
        return merge_dumps(self.dumps)

    def feed_and_flush(self, messages):
        """Feeds `messages` to a ready stats, then `flush`: returns the merged dumps."""
        self.ready()
        self.feed(messages)
        return self.flush()


def assert_dump_format(dumps, names):
    assert dumps, "no dump came out"
    for dump in dumps:
        assert [stat["name"] for stat in dump] == names
        for stat in dump:
            assert list(stat) == KEY_ORDER[stat["type"]], stat
            for key, value in stat.get("metrics", {}).items():
                assert isinstance(key, tuple) and len(key) == len(stat["labels"]), stat
                assert type(value) is int, stat
            if stat["type"] == "Histogram":
                assert all(type(b) is float for b in stat["bins"]), stat
                for key, counts in stat["bin_counts"].items():
                    assert len(counts) == len(stat["bins"]), stat
                    assert all(type(c) is int for c in counts), stat
                    assert type(stat["total_counts"][key]) is int, stat
                    assert type(stat["sums"][key]) is float, stat


def test_dumps_of_known_messages(deployment):
    stats = StatsUnderTest(deployment)
    merged = stats.feed_and_flush(MESSAGES)
    assert_dump_format(stats.dumps, MITE_STATS + HTTP_STATS)
    assert list(merged) == MITE_STATS + HTTP_STATS
    for name, want in EXPECTED.items():
        got = merged[name]
        for field, value in want.items():
            assert got[field] == value, (name, field)


def test_label_values_keep_their_types(deployment):
    """bytes stay bytes (b"GET" is msgpack bin), ints stay ints, None and bools stay themselves."""
    stats = StatsUnderTest(deployment)
    odd = [
        {"type": "http_metrics", "test": None, "journey": 7, "transaction": True,
         "method": b"\x00\xff", "response_code": None, "total_time": 1},
        {"type": "txn", "test": "t", "journey": -1, "transaction": "", "had_error": None},
    ]
    merged = stats.feed_and_flush(odd)
    assert merged["mite_http_response_total"]["metrics"] == {(None, 7, True, b"\x00\xff", None): 1}
    assert merged["mite_http_response_time_seconds"]["total_counts"] == {(True,): 1}
    assert merged["mite_http_response_time_seconds"]["bin_counts"] == {(True,): (0,) * 8 + (1,) * 7}
    assert merged["mite_transaction_total"]["metrics"] == {("t", -1, "", None): 1}


@needs_ref
def test_same_dumps_as_the_reference(deployment):
    ours = StatsUnderTest(deployment, impl="ours")
    ref = StatsUnderTest(deployment, impl="ref")
    for stats in (ours, ref):
        stats.ready()
    for stats in (ours, ref):
        stats.feed(MESSAGES)
        stats.feed(MESSAGES[:3])
    for stats in (ours, ref):
        stats.flush()
    assert_dump_format(ref.dumps, MITE_STATS + HTTP_STATS)
    assert_dump_format(ours.dumps, MITE_STATS + HTTP_STATS)
    merged = merge_dumps(ref.dumps)
    assert merged["mite_transaction_total"]["metrics"] == {
        (*GET, False): 5, ("dist:scenario", "dist:journey", "__root__", True): 2
    }, "the reference did not dump everything: the test's timing is off"
    assert merge_dumps(ours.dumps) == merged


@pytest.mark.parametrize(
    "option, names",
    [
        ("--stats-include-processors=mite_http", HTTP_STATS),
        ("--stats-include-processors=mite,mite_http", MITE_STATS + HTTP_STATS),
        ("--stats-exclude-processors=mite_http,mite_finagle,mite_kafka,mite_selenium", MITE_STATS),
    ],
)
def test_include_and_exclude_processors(deployment, option, names):
    stats = StatsUnderTest(deployment, option)
    merged = stats.feed_and_flush(MESSAGES)
    assert list(merged) == names
    for dump in stats.dumps:
        assert [stat["name"] for stat in dump] == names


def test_histogram_buckets_from_the_environment(deployment):
    stats = StatsUnderTest(deployment, env={"MITE_HTTP_HISTOGRAM_BUCKETS": "0.5,0.1,2"})
    merged = stats.feed_and_flush([http(t) for t in TIMES])
    hist = merged["mite_http_response_time_seconds"]
    assert hist["bins"] == (0.1, 0.5, 2.0)  # sorted
    assert hist["bin_counts"] == {("__root__ :: get",): (2, 3, 4)}


def test_dumps_come_out_while_messages_flow(deployment):
    """Dumps are periodic deltas: while messages keep arriving, stats dumps without waiting for
    them to stop, and the dumps add up to what was sent. (The 0.25 s period is not asserted:
    that would be a speed test.)"""
    stats = StatsUnderTest(deployment)
    stats.ready()
    stats.collect(quiet=0.5)
    stats.dumps.clear()
    n = 0

    def second_dump_while_sending():
        nonlocal n
        stats.push.send(http(0.25))
        n += 1
        stats.dumps.extend(stats.decode(raw) for raw in iter(lambda: stats.out.recv_raw(0.01), None))
        return len(stats.dumps) >= 2

    wait_for(second_dump_while_sending, 60, "two dumps while messages flow", [stats.proc], 0.01)
    # mite 2.11.0 dumps only when a message arrives: one more flushes its tail.
    stats.push.send({"type": PROBE_TYPE})
    wait_for(
        lambda: stats.collect(quiet=0.2, limit=1.0) is not None
        and merge_dumps(stats.dumps)["mite_http_response_total"]["metrics"][(*GET, b"GET", 200)]
        == n,
        30, f"dumps covering all {n} messages", [stats.proc],
    )
    counts = [merge_dumps([d]).get("mite_http_response_total", {}).get("metrics", {}) for d in
              stats.dumps]
    assert sum(1 for c in counts if c) >= 2, "one dump covered everything: no periodic deltas"


@reference_bug("stats only dumps when a message arrives, so the tail of a test is never dumped")
def test_idle_dump_covers_everything_sent(deployment):
    stats = StatsUnderTest(deployment)
    stats.ready()
    stats.feed([http(0.25)])
    wait_for(
        lambda: stats.collect(quiet=0.1, limit=0.5)
        and merge_dumps(stats.dumps)["mite_http_response_total"]["metrics"],
        20,
        "a dump of the first message",
    )
    sent = 50
    stats.feed([http(0.25) for _ in range(sent)])

    def all_dumped():
        stats.collect(quiet=0.1, limit=0.5)
        total = merge_dumps(stats.dumps)["mite_http_response_total"]["metrics"]
        return total.get((*GET, b"GET", 200), 0) >= sent + 1

    # Nothing else is sent: only an idle dump can cover the tail. (Generous: a loaded machine.)
    with contextlib.suppress(AssertionError):
        wait_for(all_dumped, 20, "the idle dump", [stats.proc])
    total = merge_dumps(stats.dumps)["mite_http_response_total"]["metrics"]
    assert total == {(*GET, b"GET", 200): sent + 1}


@reference_bug("stats exits without dumping what it has counted since its last dump")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_final_dump_at_shutdown(deployment, sig):
    stats = StatsUnderTest(deployment)
    stats.ready()
    probes = stats.push.sent
    sent = 20
    stats.feed([http(0.25) for _ in range(sent)])
    # Stopped once the frames are out of the kernel's queues (in stats' ZeroMQ queue), so the
    # final dump is what is checked, not how fast stats reads.
    wait_delivered(stats.push, watch=[stats.proc])
    stats.proc.signal(sig)
    stats.proc.wait(15)
    stats.collect(quiet=0.5)
    merged = merge_dumps(stats.dumps)
    counts = totals(stats.proc.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + stats.proc.stderr()[-3000:]
    # Frames arrive in order: every http message after every probe. Whatever stats took in is
    # in a dump; the kernel had handed it all over, so that is all of it.
    assert counts["received"] == probes + sent, counts
    assert merged["mite_http_response_total"]["metrics"] == {(*GET, b"GET", 200): sent}


@beyond_reference("counting frames and logging the totals at shutdown")
def test_totals_at_shutdown(deployment):
    stats = StatsUnderTest(deployment)
    stats.ready()
    stats.feed(MESSAGES)
    stats.collect(quiet=1.0)
    stats.proc.signal(signal.SIGINT)
    stats.proc.wait(10)
    stats.collect(quiet=0.3)
    counts = totals(stats.proc.stderr())
    assert counts is not None, "no `totals:` line at shutdown:\n" + stats.proc.stderr()[-3000:]
    assert counts.get("received") == stats.push.sent, counts
    assert counts.get("dropped", 0) == 0, counts
