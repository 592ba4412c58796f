"""Stats processors (the classes extensions subclass and list) and the aggregator that runs them."""

import importlib.metadata
import logging
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Number
from typing import Any

logger = logging.getLogger(__name__)

# How often `Stats.process` hands a dump to its sender, in seconds.
DUMP_INTERVAL = 0.25


@dataclass
class Extractor:
    """`extract(msg)` yields `(labels_tuple, value)` pairs; `labels` names the tuple's parts."""

    labels: Sequence[str]
    extract: Callable[[Any], Sequence[tuple[str, Number]]]


@dataclass
class Stat:
    name: str
    matcher: Callable[[Any], bool]
    extractor: Extractor


@dataclass
class _CounterBase(Stat):
    metrics: defaultdict = field(default_factory=lambda: defaultdict(int), init=False)

    def process(self, msg):
        raise NotImplementedError

    def dump(self):
        metrics = dict(self.metrics)
        self.metrics.clear()
        return {
            "type": "Counter",
            "name": self.name,
            "metrics": metrics,
            "labels": self.extractor.labels,
        }


@dataclass
class Counter(_CounterBase):
    """Counts matching messages per label tuple (extracted values are ignored)."""

    def process(self, msg):
        if self.matcher(msg):
            for key, _ in self.extractor.extract(msg):
                self.metrics[key] += 1


@dataclass
class Accumulator(_CounterBase):
    """Sums the extracted values per label tuple; dumped as a Counter."""

    def process(self, msg):
        if self.matcher(msg):
            for key, value in self.extractor.extract(msg):
                self.metrics[key] += value


@dataclass
class Gauge(Stat):
    """Keeps the latest extracted value per label tuple."""

    metrics: defaultdict = field(default_factory=lambda: defaultdict(float), init=False)

    def process(self, msg):
        if self.matcher(msg):
            for key, value in self.extractor.extract(msg):
                self.metrics[key] = value

    def dump(self):
        metrics = dict(self.metrics)
        self.metrics.clear()
        return {
            "type": "Gauge",
            "name": self.name,
            "metrics": metrics,
            "labels": self.extractor.labels,
        }


@dataclass
class Histogram(Stat):
    """Per label tuple: cumulative counts for each bin's upper bound, a sum and a count."""

    bins: Sequence[float]

    def __post_init__(self):
        self.bins = sorted(self.bins)
        self.bin_counts = defaultdict(lambda: [0] * len(self.bins))
        self.total_counts = defaultdict(int)
        self.sums = defaultdict(int)

    def process(self, msg):
        if self.matcher(msg):
            for key, value in self.extractor.extract(msg):
                self.sums[key] += value
                self.total_counts[key] += 1
                # A key gets bin counts only once a value lands in a bin, as in mite 2.11
                # (a value above every bin shows in sums and total_counts alone).
                bins = self.bins
                if bins and value <= bins[-1]:
                    counts = self.bin_counts[key]
                    for i in range(bisect_left(bins, value), len(bins)):
                        counts[i] += 1

    def dump(self):
        dumped = {
            "type": "Histogram",
            "name": self.name,
            "bin_counts": dict(self.bin_counts),
            "sums": dict(self.sums),
            "total_counts": dict(self.total_counts),
            "bins": self.bins,
            "labels": self.extractor.labels,
        }
        self.bin_counts.clear()
        self.sums.clear()
        self.total_counts.clear()
        return dumped


def matcher_by_type(*targets):
    """A matcher accepting messages whose `type` is one of `targets`."""

    def type_matcher(msg):
        return msg.get("type", None) in targets

    type_matcher._mite_types = targets
    return type_matcher


def extractor(labels, value_key=None):
    """One `(labels_tuple, value)` per message: missing labels read as "", the value is 1 or `msg[value_key]`."""

    def extract_items(msg):
        key = tuple(msg.get(label, "") for label in labels)
        yield key, 1 if value_key is None else msg[value_key]

    extract_items.labels = labels
    extract_items._mite_fields = (tuple(labels), value_key)
    return Extractor(labels=labels, extract=extract_items)


def controller_report_extractor(dict_key):
    """One `((test, scenario_id), n)` per entry of a controller_report's `dict_key` mapping."""

    def extract_items(msg):
        test = msg.get("test", "")
        for scenario_id, value in msg[dict_key].items():
            yield (test, scenario_id), value

    extract_items._mite_report_key = dict_key
    return Extractor(labels=("test", "scenario_id"), extract=extract_items)


_MITE_STATS = [
    Counter(
        name="mite_journey_error_total",
        matcher=matcher_by_type("error", "exception"),
        extractor=extractor(["test", "journey", "transaction", "location", "ex_type", "message"]),
    ),
    Counter(
        name="mite_transaction_total",
        matcher=matcher_by_type("txn"),
        extractor=extractor(["test", "journey", "transaction", "had_error"]),
    ),
    Accumulator(
        # Arrival-rate journeys that were due but not started (k6's dropped iterations).
        name="mite_dropped_journeys_total",
        matcher=matcher_by_type("dropped_journeys"),
        extractor=extractor(["test", "journey"], "count"),
    ),
    Gauge(
        name="mite_actual_count",
        matcher=matcher_by_type("controller_report"),
        extractor=controller_report_extractor("actual"),
    ),
    Gauge(
        name="mite_required_count",
        matcher=matcher_by_type("controller_report"),
        extractor=controller_report_extractor("required"),
    ),
    Gauge(
        name="mite_runner_count",
        matcher=matcher_by_type("controller_report"),
        extractor=extractor(["test"], "num_runners"),
    ),
]


# Stats beyond mite 2.11's set, left out of a dump while they have nothing (the native
# aggregator's `OMIT_WHEN_EMPTY` names the same).
_OMIT_WHEN_EMPTY = frozenset({"mite_dropped_journeys_total"})

_NATIVE_KINDS = {Counter: "Counter", Accumulator: "Accumulator", Gauge: "Gauge", Histogram: "Histogram"}


def native_spec(stat):
    """The native form of a stat built from this module's classes and helpers (so `mite stats`
    runs it without Python per message), or None for anything else, which runs in Python."""
    kind = _NATIVE_KINDS.get(type(stat))
    types = getattr(stat.matcher, "_mite_types", None)
    extract = getattr(stat.extractor, "extract", None)
    if kind is None or types is None or not all(isinstance(t, str) for t in types):
        return None
    labels = list(stat.extractor.labels)
    if not all(isinstance(label, str) for label in labels):
        return None
    report_key = getattr(extract, "_mite_report_key", None)
    fields = getattr(extract, "_mite_fields", None)
    if report_key is not None and isinstance(report_key, str):
        value_key = None
    elif fields is not None and list(fields[0]) == labels and (fields[1] is None or isinstance(fields[1], str)):
        value_key = fields[1]
    else:
        return None
    bins = [float(b) for b in stat.bins] if kind == "Histogram" else None
    return (kind, stat.name, list(types), labels, value_key, report_key, bins)


def load_stats(include=None, exclude=None):
    """The stats registered under the `mite_stats` entry-point group, as mite 2.11 loads them."""
    loaded = []
    for entry_point in importlib.metadata.entry_points(group="mite_stats"):
        if include is not None and entry_point.name not in include:
            continue
        if exclude is not None and entry_point.name in exclude:
            continue
        # The root logger, as in mite 2.11: extensions' tests patch logging.info.
        logging.info(f"Registering stats processors from {entry_point.name}")
        try:
            loaded += entry_point.load()
        except Exception as e:
            logging.warning(f"Failed to load stats from entry point {entry_point.name}: {e}")
    return loaded


class Stats:
    """Runs every stat registered under the `mite_stats` entry-point group over each message.

    `include`/`exclude` filter by entry-point name. A processor list that fails to
    load is logged and skipped.
    """

    def __init__(self, sender, include=None, exclude=None):
        self._all_stats = load_stats(include, exclude)
        self.sender = sender
        self.dump_timeout = time.time() + DUMP_INTERVAL

    def process(self, msg):
        for processor in self._all_stats:
            processor.process(msg)
        now = time.time()
        if now > self.dump_timeout:
            self.sender(self.dump())
            self.dump_timeout = now + DUMP_INTERVAL

    def flush(self):
        """Send a dump now, whether or not messages arrived.

        mite 2.11 only dumps from `process`, so the last fraction of a second of
        a test never leaves; call this on a timer and at shutdown.
        """
        self.sender(self.dump())
        self.dump_timeout = time.time() + DUMP_INTERVAL

    def dump(self):
        # A stat beyond 2.11's set is left out while empty: the same messages, the same dump.
        return [
            stat.dump()
            for stat in self._all_stats
            if not (getattr(stat, "name", None) in _OMIT_WHEN_EMPTY and not getattr(stat, "metrics", True))
        ]
