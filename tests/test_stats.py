"""Stats processors dump in mite 2.11's formats; Stats loads them from entry points."""

import importlib
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

import mite.stats
import mite_http.stats
from mite.stats import (
    _MITE_STATS,
    Accumulator,
    Counter,
    Extractor,
    Gauge,
    Histogram,
    Stat,
    Stats,
    controller_report_extractor,
    extractor,
    matcher_by_type,
)

TXN_MSG = {
    "start_time": 1572604344.7903123,
    "end_time": 1572604346.0693598,
    "had_error": True,
    "type": "txn",
    "time": 1572604346.0693617,
    "test": "mite_project.file:scenario",
    "runner_id": 1,
    "journey": "mite_project.file:journey",
    "context_id": 8,
    "scenario_id": 31,
    "scenario_data_id": 2,
    "transaction": "txn_name",
    "transaction_id": 3,
}

REPORT_MSG = {
    "type": "controller_report",
    "time": 1.0,
    "test": "t:scenario",
    "required": {1: 10, 2: 4},
    "actual": {1: 7},
    "num_runners": 3,
}


def always(_msg):
    return True


def fixed(*pairs):
    return Extractor(labels=("bar",), extract=lambda _msg: pairs)


class TestHelpers:
    def test_extractor_yields_labels_and_one(self):
        ex = extractor("test journey transaction had_error".split())
        assert list(ex.extract(TXN_MSG)) == [
            (("mite_project.file:scenario", "mite_project.file:journey", "txn_name", True), 1)
        ]
        assert ex.labels == ["test", "journey", "transaction", "had_error"]
        assert ex.extract.labels == ex.labels

    def test_extractor_missing_label_is_empty_string_and_value_key_is_read(self):
        ex = extractor(["transaction", "nope"], "end_time")
        assert list(ex.extract(TXN_MSG)) == [(("txn_name", ""), 1572604346.0693598)]

    def test_extractor_missing_value_key_raises(self):
        with pytest.raises(KeyError):
            list(extractor(["test"], "absent").extract(TXN_MSG))

    def test_matcher_by_type(self):
        match = matcher_by_type("error", "exception")
        assert match({"type": "error"}) and match({"type": "exception"})
        assert not match({"type": "txn"})
        assert not match({})

    def test_controller_report_extractor(self):
        ex = controller_report_extractor("required")
        assert ex.labels == ("test", "scenario_id")
        assert list(ex.extract(REPORT_MSG)) == [(("t:scenario", 1), 10), (("t:scenario", 2), 4)]


class TestCounter:
    def test_counts_matches_and_ignores_values(self):
        counter = Counter("c", always, fixed(("foo", 5), ("baz", 9)))
        counter.process(None)
        counter.process(None)
        assert dict(counter.metrics) == {"foo": 2, "baz": 2}

    def test_ignores_messages_the_matcher_rejects(self):
        counter = Counter("c", lambda _: False, fixed(("foo", 1)))
        counter.process(None)
        assert dict(counter.metrics) == {}

    def test_dump_format_and_reset(self):
        counter = Counter("test", always, fixed(("foo", 1)))
        counter.process(None)
        assert counter.dump() == {
            "type": "Counter",
            "name": "test",
            "metrics": {"foo": 1},
            "labels": ("bar",),
        }
        assert counter.dump()["metrics"] == {}
        counter.process(None)
        assert dict(counter.metrics) == {"foo": 1}


class TestAccumulator:
    def test_sums_values_and_dumps_as_a_counter(self):
        acc = Accumulator("bytes", always, fixed(("foo", 2.5)))
        acc.process(None)
        acc.process(None)
        assert acc.dump() == {
            "type": "Counter",
            "name": "bytes",
            "metrics": {"foo": 5.0},
            "labels": ("bar",),
        }


class TestGauge:
    def test_keeps_the_last_value(self):
        values = iter([3, 8])
        gauge = Gauge("g", always, Extractor(("bar",), lambda _: [("foo", next(values))]))
        gauge.process(None)
        gauge.process(None)
        assert gauge.dump() == {
            "type": "Gauge",
            "name": "g",
            "metrics": {"foo": 8},
            "labels": ("bar",),
        }
        assert gauge.dump()["metrics"] == {}


class TestHistogram:
    def test_bins_are_sorted_and_counts_cumulative(self):
        values = iter([3, 0.5, 2])
        hist = Histogram(
            "h", always, Extractor(("bar",), lambda _: [("foo", next(values))]), (4, 1, 3, 2)
        )
        for _ in range(3):
            hist.process(None)
        assert hist.bins == [1, 2, 3, 4]
        assert hist.dump() == {
            "type": "Histogram",
            "name": "h",
            "bin_counts": {"foo": [1, 2, 3, 3]},
            "sums": {"foo": 5.5},
            "total_counts": {"foo": 3},
            "bins": [1, 2, 3, 4],
            "labels": ("bar",),
        }

    def test_value_on_a_bin_edge_counts_in_that_bin(self):
        hist = Histogram("h", always, fixed(("foo", 2)), [1, 2, 3])
        hist.process(None)
        assert dict(hist.bin_counts) == {"foo": [0, 1, 1]}

    def test_value_above_every_bin_only_shows_in_sums_and_counts(self):
        hist = Histogram("h", always, fixed(("foo", 9)), [1, 2])
        hist.process(None)
        dumped = hist.dump()
        assert dumped["bin_counts"] == {}
        assert dumped["sums"] == {"foo": 9}
        assert dumped["total_counts"] == {"foo": 1}

    def test_dump_resets(self):
        hist = Histogram("h", always, fixed(("foo", 3)), [1, 2, 3, 4])
        hist.process(None)
        hist.dump()
        assert (dict(hist.bin_counts), dict(hist.sums), dict(hist.total_counts)) == ({}, {}, {})
        hist.process(None)
        assert dict(hist.bin_counts) == {"foo": [0, 0, 1, 1]}


def test_stat_subclasses_are_dataclasses_extensions_can_extend():
    from dataclasses import dataclass

    @dataclass
    class Threshold(Stat):
        limit: int

    t = Threshold("name", always, fixed(), limit=3)
    assert (t.name, t.limit) == ("name", 3)


class TestBuiltInStats:
    def dumps_after(self, *msgs):
        for stat in _MITE_STATS:
            stat.dump()
        for msg in msgs:
            for stat in _MITE_STATS:
                stat.process(msg)
        return {stat.name: stat.dump() for stat in _MITE_STATS}

    def test_names(self):
        assert [s.name for s in _MITE_STATS] == [
            "mite_journey_error_total",
            "mite_transaction_total",
            # Beyond 2.11 (arrival-rate models); left out of a dump while empty.
            "mite_dropped_journeys_total",
            "mite_actual_count",
            "mite_required_count",
            "mite_runner_count",
        ]

    def test_transactions_and_errors(self):
        error = {
            "type": "exception",
            "test": "t",
            "journey": "j",
            "transaction": "a",
            "location": "f.py:1:j",
            "ex_type": "KeyError",
            "message": "'k'",
        }
        dumps = self.dumps_after(TXN_MSG, TXN_MSG, error, {**error, "type": "error"})
        assert dumps["mite_transaction_total"]["metrics"] == {
            ("mite_project.file:scenario", "mite_project.file:journey", "txn_name", True): 2
        }
        assert dumps["mite_journey_error_total"]["metrics"] == {
            ("t", "j", "a", "f.py:1:j", "KeyError", "'k'"): 2
        }

    def test_controller_report(self):
        dumps = self.dumps_after(REPORT_MSG)
        assert dumps["mite_actual_count"]["metrics"] == {("t:scenario", 1): 7}
        assert dumps["mite_required_count"]["metrics"] == {
            ("t:scenario", 1): 10,
            ("t:scenario", 2): 4,
        }
        assert dumps["mite_runner_count"] == {
            "type": "Gauge",
            "name": "mite_runner_count",
            "metrics": {("t:scenario",): 3},
            "labels": ["test"],
        }


class TestHttpStats:
    def test_default_buckets(self, monkeypatch):
        monkeypatch.delenv("MITE_HTTP_HISTOGRAM_BUCKETS", raising=False)
        counter, hist = mite_http.stats._generate_stats()
        assert (counter.name, hist.name) == (
            "mite_http_response_total",
            "mite_http_response_time_seconds",
        )
        assert hist.bins == [0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 2, 4, 8, 16, 32, 64]

    def test_buckets_from_environment(self, monkeypatch):
        monkeypatch.setenv("MITE_HTTP_HISTOGRAM_BUCKETS", "3,1,2")
        assert mite_http.stats._generate_stats()[1].bins == [1.0, 2.0, 3.0]
        monkeypatch.setenv("MITE_DNS_HISTOGRAM_BUCKETS", "0.5")
        (dns,) = mite_http.stats._generate_dns_stats()
        assert (dns.name, dns.bins) == ("mite_dns_time", [0.5])

    def test_http_metrics_message(self):
        counter, hist = mite_http.stats._generate_stats()
        msg = {
            "type": "http_metrics",
            "test": "t",
            "journey": "j",
            "transaction": "login",
            "method": b"GET",
            "response_code": 200,
            "total_time": 0.03,
        }
        counter.process(msg)
        hist.process(msg)
        assert counter.dump()["metrics"] == {("t", "j", "login", b"GET", 200): 1}
        dumped = hist.dump()
        assert dumped["labels"] == ["transaction"]
        assert dumped["bin_counts"] == {("login",): [0, 0, 0, 1] + [1] * 11}
        assert dumped["sums"] == {("login",): 0.03}


class FakeEntryPoint:
    def __init__(self, name, loaded=None, error=None):
        self.name = name
        self._loaded = loaded if loaded is not None else [name]
        self._error = error

    def load(self):
        if self._error:
            raise self._error
        return self._loaded


@pytest.fixture
def entry_points(monkeypatch):
    calls = []

    def install(*eps):
        def fake(**kwargs):
            calls.append(kwargs)
            return list(eps)

        monkeypatch.setattr(importlib.metadata, "entry_points", fake)
        return calls

    return install


class TestStatsAggregator:
    def test_loads_the_mite_stats_group(self, entry_points, caplog):
        calls = entry_points(FakeEntryPoint("x"), FakeEntryPoint("y", loaded=("y1", "y2")))
        with caplog.at_level(logging.INFO):
            stats = Stats(None)
        assert calls == [{"group": "mite_stats"}]
        assert stats._all_stats == ["x", "y1", "y2"]
        assert "Registering stats processors from x" in caplog.text

    def test_include_and_exclude(self, entry_points):
        entry_points(FakeEntryPoint("x"), FakeEntryPoint("y"), FakeEntryPoint("z"))
        assert Stats(None, include=["x", "z"])._all_stats == ["x", "z"]
        assert Stats(None, exclude=["x"])._all_stats == ["y", "z"]
        assert Stats(None, include=["x", "y"], exclude=["y"])._all_stats == ["x"]

    def test_a_broken_entry_point_is_skipped_with_a_warning(self, entry_points, caplog):
        entry_points(FakeEntryPoint("bad", error=ImportError("no module")), FakeEntryPoint("ok"))
        with caplog.at_level(logging.WARNING):
            stats = Stats(None)
        assert stats._all_stats == ["ok"]
        assert "Failed to load stats from entry point bad: no module" in caplog.text

    def test_process_sends_a_dump_once_the_interval_has_passed(self, entry_points, monkeypatch):
        clock = SimpleNamespace(now=100.0)
        monkeypatch.setattr(mite.stats, "time", SimpleNamespace(time=lambda: clock.now))
        counter = Counter("n", matcher_by_type("txn"), extractor(["test"]))
        entry_points(FakeEntryPoint("mine", loaded=[counter]))
        sent = []
        stats = Stats(sent.append)

        stats.process({"type": "txn", "test": "t"})
        assert sent == []
        clock.now = 100.3
        stats.process({"type": "txn", "test": "t"})
        assert sent == [
            [{"type": "Counter", "name": "n", "metrics": {("t",): 2}, "labels": ["test"]}]
        ]
        clock.now = 100.5
        stats.process({"type": "txn", "test": "t"})
        assert len(sent) == 1

    def test_flush_sends_what_is_pending_without_a_message(self, entry_points):
        counter = Counter("n", matcher_by_type("txn"), extractor(["test"]))
        entry_points(FakeEntryPoint("mine", loaded=[counter]))
        sent = []
        stats = Stats(sent.append)
        stats.process({"type": "txn", "test": "t"})
        stats.flush()
        assert sent[-1] == [
            {"type": "Counter", "name": "n", "metrics": {("t",): 1}, "labels": ["test"]}
        ]


def test_registered_entry_points_resolve_to_stat_lists():
    import tomllib  # stdlib from Python 3.11, which `make dev` uses
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    group = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["mite_stats"]
    # mite 2.11.0's own registrations, one per package that ships stats.
    assert set(group) == {"mite", "mite_http", "mite_selenium", "mite_kafka", "mite_finagle"}
    for target in group.values():
        module, attr = target.split(":")
        stats = getattr(importlib.import_module(module), attr)
        assert stats and all(isinstance(s, Stat) for s in stats)
