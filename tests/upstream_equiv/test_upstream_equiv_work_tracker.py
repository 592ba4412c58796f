"""Public-API versions of upstream test_work_tracker.py, which reads `_all_work`/`_total_work`.

The same behaviour is checked through `set_actual`, `add_assumed`, `get_runner_total`,
`get_total_work` and `remove_runner`.
"""

from mite.controller import WorkTracker

WORK = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}


def nonzero(totals):
    """Totals without zero entries (mite 2.11 keeps a scenario at 0 once its work is gone)."""
    return {k: v for k, v in dict(totals).items() if v}


def test_remove_runner():
    # upstream: fills _all_work for runners 1..5, removes each, checks it is gone.
    tracker = WorkTracker()
    for i in range(1, 6):
        tracker.set_actual(i, WORK)
    for i in range(1, 6):
        tracker.remove_runner(i)
        assert tracker.get_runner_total(i) == 0
        remaining = list(range(i + 1, 6))
        expected = {k: v * len(remaining) for k, v in WORK.items()} if remaining else {}
        assert nonzero(tracker.get_total_work(remaining)) == expected


def test_set_actual():
    # upstream: after set_actual the runner has work recorded.
    tracker = WorkTracker()
    for i in range(5):
        tracker.set_actual(i, WORK)
        assert tracker.get_runner_total(i) == sum(WORK.values())


def test_set_actual_replaces_earlier_work():
    tracker = WorkTracker()
    tracker.set_actual(1, WORK)
    tracker.set_actual(1, {1: 7})
    assert tracker.get_runner_total(1) == 7
    assert nonzero(tracker.get_total_work([1])) == {1: 7}


def test_add_assume():
    # upstream: assumed work adds up across runners in the totals.
    tracker = WorkTracker()
    for i in range(5):
        tracker.add_assumed(i, WORK)
    assert nonzero(tracker.get_total_work(list(range(5)))) == {k: v * 5 for k, v in WORK.items()}
