"""Stats dumps folded into running totals, and the points each write carries (mite 2.11's model):
counters and histograms as this interval's change plus the total so far, gauges as they are."""

import logging
import threading
from collections import defaultdict

from .line_protocol import InfluxPoint

__all__ = ["InfluxStat", "InfluxCounter", "InfluxGauge", "InfluxHistogram", "INFLUX_STAT_TYPES"]

logger = logging.getLogger(__name__)

PERCENTILES = (0.50, 0.75, 0.90, 0.95, 0.99)


def _pct_name(p):
    return f"p{int(p * 100)}"


def _sorted_keys(keys):
    # Label tuples may mix None, str and bytes, which do not order against each other.
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


class InfluxStat:
    """A gauge-like stat: one `value` per label tuple."""

    def __init__(self, name, message):
        self._lock = threading.Lock()
        self.name = name
        self.labels = tuple(message["labels"])
        self.metrics = defaultdict(float, message["metrics"])

    def _tags(self, key):
        return dict(zip(self.labels, key, strict=False))

    def _keys(self, touched_keys):
        return list(self.metrics) if touched_keys is None else list(touched_keys)

    def to_points(self, time_ns, touched_keys=None):
        with self._lock:
            return [
                InfluxPoint(self.name, self._tags(k), {"value": self.metrics[k]}, time_ns)
                for k in self._keys(touched_keys)
            ]


class InfluxCounter(InfluxStat):
    """`value` is the count since the last point for the label tuple, `value_cumulative` the total."""

    def __init__(self, name, message):
        super().__init__(name, message)
        self.metrics = defaultdict(int, {k: int(v) for k, v in message["metrics"].items()})
        self._prev_metrics = defaultdict(int)

    def update(self, message):
        with self._lock:
            for k, v in message["metrics"].items():
                self.metrics[k] += int(v)
            return set(message["metrics"])

    def to_points(self, time_ns, touched_keys=None):
        points = []
        with self._lock:
            for k in self._keys(touched_keys):
                total = self.metrics[k]
                delta = max(0, total - self._prev_metrics[k])
                points.append(
                    InfluxPoint(
                        self.name,
                        self._tags(k),
                        {"value": delta, "value_cumulative": total},
                        time_ns,
                    )
                )
                self._prev_metrics[k] = total
        return points


class InfluxGauge(InfluxStat):
    """The latest value per label tuple, as a float."""

    def __init__(self, name, message):
        super().__init__(name, message)
        self.metrics = defaultdict(float, {k: float(v) for k, v in message["metrics"].items()})

    def update(self, message):
        with self._lock:
            for k, v in message["metrics"].items():
                self.metrics[k] = float(v)
            return set(message["metrics"])


def percentiles(bins, bin_counts, total):
    """p50..p99 estimated from cumulative bin counts: linear between the bounds around the rank
    (from 0 below the first bin); the last bound when the rank lies above every bin."""
    result = {}
    for p in PERCENTILES:
        if total == 0:
            result[_pct_name(p)] = 0.0
            continue
        target = p * total
        value = float(bins[-1]) if bins else 0.0
        prev_count, prev_bound = 0, 0.0
        for bound, count in zip(bins, bin_counts, strict=False):
            if count >= target:
                if count == prev_count:
                    value = float(bound)
                else:
                    value = float(
                        prev_bound
                        + (target - prev_count) / (count - prev_count) * (bound - prev_bound)
                    )
                break
            prev_count, prev_bound = count, bound
        result[_pct_name(p)] = value
    return result


class InfluxHistogram(InfluxStat):
    """`NAME_summary`: percentiles, sum, count and mean for the interval and since the start;
    with `include_buckets`, `NAME_bucket` points per bin (`le` tag) with the running counts."""

    PERCENTILES = list(PERCENTILES)

    def __init__(self, name, message, include_buckets=False):
        self._lock = threading.Lock()
        self.name = name
        self.labels = tuple(message["labels"])
        self.bins = tuple(message["bins"])
        self.include_buckets = include_buckets
        self.bin_counts = defaultdict(lambda: [0] * len(self.bins))
        self.sums = defaultdict(float)
        self.total_counts = defaultdict(int)
        self._prev_bin_counts = defaultdict(lambda: [0] * len(self.bins))
        self._prev_sums = defaultdict(float)
        self._prev_total_counts = defaultdict(int)
        for k, v in message.get("bin_counts", {}).items():
            self.bin_counts[k] = [int(c) for c in v]
        for k, v in message.get("total_counts", {}).items():
            self.total_counts[k] = int(v)
        for k, v in message.get("sums", {}).items():
            self.sums[k] = float(v)

    def update(self, message):
        touched = set()
        with self._lock:
            for k, v in message.get("total_counts", {}).items():
                self.total_counts[k] += int(v)
                touched.add(k)
            for k, v in message.get("sums", {}).items():
                self.sums[k] += float(v)
                touched.add(k)
            for k, v in message.get("bin_counts", {}).items():
                counts = self.bin_counts[k]
                for i, c in enumerate(v[: len(counts)]):
                    counts[i] += int(c)
                touched.add(k)
        return touched

    def _percentile_from_buckets(self, bin_counts, total):
        return percentiles(self.bins, bin_counts, total)

    def _summary(self, k):
        counts, total, total_sum = self.bin_counts[k], self.total_counts[k], self.sums[k]
        d_counts = [max(0, c - p) for c, p in zip(counts, self._prev_bin_counts[k], strict=False)]
        d_total = max(0, total - self._prev_total_counts[k])
        d_sum = max(0.0, total_sum - self._prev_sums[k])
        interval = percentiles(self.bins, d_counts, d_total)
        overall = percentiles(self.bins, counts, total)
        fields = dict(interval)
        fields.update(sum=d_sum, count=d_total, avg=d_sum / d_total if d_total else 0.0)
        fields.update({f"{name}_cumulative": v for name, v in overall.items()})
        fields.update(
            sum_cumulative=total_sum,
            count_cumulative=total,
            avg_cumulative=total_sum / total if total else 0.0,
        )
        return fields

    def to_points(self, time_ns, touched_keys=None):
        points = []
        with self._lock:
            keys = self.total_counts if touched_keys is None else touched_keys
            for k in _sorted_keys(keys):
                tags = self._tags(k)
                points.append(InfluxPoint(f"{self.name}_summary", tags, self._summary(k), time_ns))
                counts, total = self.bin_counts[k], self.total_counts[k]
                if self.include_buckets:
                    for bound, count in zip(self.bins, counts, strict=False):
                        tags_le = {**tags, "le": str(bound)}
                        points.append(
                            InfluxPoint(
                                f"{self.name}_bucket", tags_le, {"count": int(count)}, time_ns
                            )
                        )
                    tags_inf = {**tags, "le": "+Inf"}
                    points.append(
                        InfluxPoint(f"{self.name}_bucket", tags_inf, {"count": int(total)}, time_ns)
                    )
                self._prev_bin_counts[k] = list(counts)
                self._prev_total_counts[k] = total
                self._prev_sums[k] = self.sums[k]
        return points


INFLUX_STAT_TYPES = {"Counter": InfluxCounter, "Gauge": InfluxGauge, "Histogram": InfluxHistogram}
