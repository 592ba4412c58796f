"""mite 2.11's Python model of the Prometheus exporter: stats dumps in, `/metrics` text out
(the same text the native `mite prometheus_exporter` serves)."""

import logging
import threading
from collections import defaultdict

logger = logging.getLogger(__name__)

__all__ = ["format_dict", "PrometheusStat", "Counter", "Gauge", "Histogram", "STAT_TYPES", "PrometheusMetrics"]


def format_dict(d):
    """`k1="v1",k2="v2"`: values as Python's `str()`, with backslashes and quotes escaped."""
    return ",".join(
        '{}="{}"'.format(k, str(v).replace("\\", "\\\\").replace('"', '\\"')) for k, v in d.items()
    )


class PrometheusStat:
    """A counter or gauge: one value per label tuple."""

    def __init__(self, name, message):
        self._lock = threading.Lock()
        self.name = name
        self.labels = message["labels"]
        self.metrics = defaultdict(float, message["metrics"])

    def format(self):
        lines = [f"# TYPE {self.name} {type(self).__name__.lower()}"]
        with self._lock:
            for key, value in self.metrics.items():
                lines.append(f"{self.name} {{{format_dict(dict(zip(self.labels, key, strict=False)))}}} {value}")
        return "\n".join(lines)


class Counter(PrometheusStat):
    """Counts accumulate across dumps."""

    def update(self, message):
        with self._lock:
            for key, value in message["metrics"].items():
                self.metrics[key] += value


class Gauge(PrometheusStat):
    """The latest dump's value wins."""

    def update(self, message):
        with self._lock:
            for key, value in message["metrics"].items():
                self.metrics[key] = value


def _sort_key(key):
    # Python cannot order None beside a string; mite 2.11's page then failed as a whole. Values
    # that compare are ordered as Python orders them, the rest by kind (as the native exporter).
    def one(v):
        if v is None:
            return (0, 0)
        if isinstance(v, (bool, int, float)):
            return (1, v)
        if isinstance(v, str):
            return (2, v)
        if isinstance(v, bytes):
            return (3, v)
        if isinstance(v, tuple):
            return (4, _sort_key(v))
        return (5, str(v))

    return tuple(one(v) for v in key) if isinstance(key, tuple) else (one(key),)


class Histogram:
    """Cumulative bucket counts, sums and totals per label tuple; all accumulate across dumps."""

    def __init__(self, name, message):
        self._lock = threading.Lock()
        self.name = name
        self.labels = message["labels"]
        self.bins = message["bins"]
        self.bin_counts = defaultdict(
            lambda: [0] * len(self.bins), {k: list(v) for k, v in message["bin_counts"].items()}
        )
        self.sums = defaultdict(float, message["sums"])
        self.total_counts = defaultdict(int, message["total_counts"])

    def update(self, message):
        with self._lock:
            for key, value in message["total_counts"].items():
                self.total_counts[key] += value
            for key, value in message["sums"].items():
                self.sums[key] += value
            for key, counts in message["bin_counts"].items():
                mine = self.bin_counts[key]
                for i, count in enumerate(counts):
                    mine[i] += count

    def _sorted_keys(self):
        try:
            return sorted(self.sums.keys())
        except TypeError:
            return sorted(self.sums.keys(), key=_sort_key)

    def format(self):
        lines = [f"# TYPE {self.name} histogram"]
        with self._lock:
            for key in self._sorted_keys():
                labels = format_dict(dict(zip(self.labels, key, strict=False)))
                total = self.total_counts[key]
                lines.extend(
                    f'{self.name}_bucket{{{labels},le="{bin_label:.6f}"}} {count}'
                    for bin_label, count in zip(self.bins, self.bin_counts[key], strict=False)
                )
                lines.append(f'{self.name}_bucket{{{labels},le="+Inf"}} {total}')
                lines.append(f"{self.name}_sum{{{labels}}} {self.sums[key]:.6f}")
                lines.append(f"{self.name}_count{{{labels}}} {total}")
        return "\n".join(lines)


STAT_TYPES = {"Counter": Counter, "Gauge": Gauge, "Histogram": Histogram}


class PrometheusMetrics:
    """Every stat seen so far, by name: `process(dump)` folds in one stats dump (a list of stats),
    `format()` is the whole `/metrics` body."""

    def __init__(self):
        self.stats = {}

    def process(self, msg):
        logger.debug(f"message to iterate in prometheus metrics: {msg}")
        for stat in msg:
            name = stat["name"]
            if name not in self.stats:
                self.stats[name] = STAT_TYPES[stat["type"]](name, stat)
            else:
                self.stats[name].update(stat)

    def format(self):
        return "\n\n".join(stat.format() for stat in self.stats.values())
