"""Third-party stats registered under the `mite_stats` entry-point group: one built from
mite.stats' helpers (ours runs it natively) and one hand-written class (run in Python), in one
entry point, selected with --stats-include-processors; both implementations give the same dumps."""


import pytest
from test_dist_stats import StatsUnderTest

PLUGIN = '''
from mite.stats import Counter, Stat, extractor, matcher_by_type


class LastEnd(Stat):
    """Hand-written: the latest end_time per transaction, dumped as a Gauge."""

    def __init__(self):
        super().__init__(name="plug_last_end", matcher=None, extractor=None)
        self.seen = {}

    def process(self, msg):
        if msg.get("type") == "txn":
            self.seen[(msg.get("transaction"),)] = msg.get("end_time")

    def dump(self):
        out = {"type": "Gauge", "name": self.name, "metrics": dict(self.seen), "labels": ("transaction",)}
        self.seen.clear()
        return out


STATS = [
    Counter(name="plug_txn_total", matcher=matcher_by_type("txn"), extractor=extractor(["transaction"])),
    LastEnd(),
]
'''


def install_plugin(folder):
    (folder / "plugstats.py").write_text(PLUGIN)
    info = folder / "plugstats-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugstats\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mite_stats]\nplug = plugstats:STATS\n")


@pytest.mark.parametrize("impl", ["ours", "ref"])
def test_plugin_stats_native_and_python_side_by_side(deployment, impl):
    install_plugin(deployment.dir)
    stats = StatsUnderTest(deployment, "--stats-include-processors=plug", impl=impl)
    stats.ready()
    txn = {"type": "txn", "transaction": "a", "end_time": 2.5}
    stats.feed([txn, {**txn, "end_time": 3.5}, {**txn, "transaction": "b", "end_time": 1.0}])
    stats.flush()
    assert all([d["name"] for d in dump] == ["plug_txn_total", "plug_last_end"] for dump in stats.dumps)
    counts, last = {}, {}
    for dump in stats.dumps:
        for key, n in dump[0]["metrics"].items():
            counts[key] = counts.get(key, 0) + n
        last.update(dump[1]["metrics"])
        assert dump[0]["labels"] == ("transaction",) and dump[0]["type"] == "Counter"
    assert counts == {("a",): 2, ("b",): 1}
    assert last == {("a",): 3.5, ("b",): 1.0}
    if impl == "ours":
        # The helper-built Counter ran natively; only the hand-written class needed Python.
        assert "1 stats run in Python: plug_last_end" in stats.proc.stderr()
