"""`InfluxDBProcessor`: what `--influxdb=N` adds to a local test: the stats aggregator run over the
test's messages, its dumps written to one InfluxDB destination (mite 2.11's module path)."""

import logging

from .influxdb.metrics import InfluxDataLost, InfluxMetrics
from .influxdb.writer import InfluxdbWriter
from .stats import Stats

__all__ = ["InfluxDBProcessor", "InfluxUnreachable"]

logger = logging.getLogger(__name__)


class InfluxUnreachable(ConnectionError):
    """The destination failed the check made before the run (one line: address and reason)."""


class InfluxDBProcessor:
    def __init__(self, opts, suffix=""):
        include_buckets = bool(opts.get("--include-buckets", False))
        self._influx_metrics = InfluxMetrics(include_buckets=include_buckets, suffix=suffix)
        problem = self._influx_metrics.check()
        if problem is not None:
            InfluxdbWriter.close(self._influx_metrics)  # nothing was written: no totals line
            raise InfluxUnreachable(problem)
        self._stats = Stats(sender=self._on_stats_dump)

    def _on_stats_dump(self, dumped_stats):
        self._influx_metrics.process(dumped_stats)

    def process_message(self, msg):
        self._stats.process(msg)

    def close(self):
        # The last dump, which mite 2.11 never sends (it dumps only when a message arrives).
        self._stats.flush()
        lost = self._influx_metrics.close()
        if lost:
            raise InfluxDataLost(
                f"{lost} InfluxDB points for {self._influx_metrics.address} could not be written "
                f"(last error: {self._influx_metrics.last_error})"
            )
