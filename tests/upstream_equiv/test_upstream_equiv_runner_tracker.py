"""Public-API versions of upstream test_runner_tracker.py, which reads `_hits` and `_last_seen`.

mite 2.11's tests fill and read the tracker's private deque and dict; these check the same
behaviour through `update`, `remove_runner`, `get_active`, `get_active_count` and `get_hit_rate`.
"""

import time

from mite.controller import RunnerTracker

# Short tracker timeouts keep the expiry tests quick; they wait for the expiry to be seen
# (polling, with a generous deadline) instead of sleeping a fixed time. The window itself is
# checked against an injected clock in src/control/trackers.rs.
SHORT = 0.5
DEADLINE = 30


def wait_until(predicate):
    end = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < end, "condition not reached before the deadline"
        time.sleep(0.01)


def fresh(update, read, expected):
    """Runs `update`, then `read`: the value must be `expected` when less than SHORT passed
    between the two (every entry is still in the window). A loaded machine that stalls this
    thread past the window leaves nothing to check (some entries may have expired): the exact
    window is the Rust test's."""
    start = time.time()
    update()
    value = read()
    if time.time() - start < SHORT:
        assert value == expected


def updates(tracker, ids):
    return lambda: [tracker.update(i) for i in ids]


def test_remove_runner():
    # upstream: seeds _last_seen with runners 1..5, removes each, checks it is gone.
    tracker = RunnerTracker()
    for i in range(1, 6):
        tracker.update(i)
    for i in range(1, 6):
        tracker.remove_runner(i)
        assert i not in tracker.get_active()
        assert tracker.get_active_count() == 5 - i


def test_update():
    # upstream: each update records the runner as seen and adds one hit (the default window of
    # 10 s: a 10 s stall would be needed to race it).
    tracker = RunnerTracker()
    for i in range(10, 15):
        tracker.update(i)
        assert i in tracker.get_active()
        # hits counted over the 10 s window: one per update so far
        assert tracker.get_hit_rate() == (i - 9) / 10


def test_update_drops_hits_older_than_the_timeout():
    # upstream test_update_popleft: hits older than the timeout stop counting.
    tracker = RunnerTracker(SHORT)
    fresh(updates(tracker, range(3)), tracker.get_hit_rate, 3 / SHORT)
    wait_until(lambda: tracker.get_hit_rate() == 0)
    fresh(updates(tracker, range(10, 15)), tracker.get_hit_rate, 5 / SHORT)


def test_get_hit_rate():
    # upstream: 3 hits, expiry, 2 hits with timeout 2 -> a rate of 2 / 2 == 1.
    tracker = RunnerTracker(SHORT)
    for i in range(3):
        tracker.update(i)
    wait_until(lambda: tracker.get_active_count() == 0)
    fresh(updates(tracker, range(3, 5)), tracker.get_hit_rate, 2 / SHORT)


def test_get_active():
    # upstream: runners not seen within the timeout are not active; order is first-seen order.
    tracker = RunnerTracker(SHORT)
    for i in range(5):
        tracker.update(i)
    wait_until(lambda: tracker.get_active_count() == 0)
    fresh(updates(tracker, range(5, 7)), tracker.get_active, [5, 6])
