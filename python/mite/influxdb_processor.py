"""`InfluxDBProcessor`: what `--influxdb=N` adds to a local test: the stats aggregator run over the
test's messages, each dump written to every InfluxDB destination (mite 2.11's module path)."""

import copy
import dataclasses
import logging

from .influxdb.metrics import InfluxDataLost, InfluxMetrics
from .influxdb.writer import InfluxdbWriter
from .stats import Stats

__all__ = ["InfluxDBProcessor", "InfluxUnreachable"]

logger = logging.getLogger(__name__)


class InfluxUnreachable(ConnectionError):
    """A destination failed the check made before the run (one line: address and reason)."""


def _fresh(stat):
    """A copy of a registered stat with empty totals. The entry points hand every caller the same
    objects; mite 2.11 fed them once per destination, so `--influxdb=2` counted everything twice."""
    try:
        if dataclasses.is_dataclass(stat):
            return dataclasses.replace(stat)
        return copy.deepcopy(stat)
    except Exception as e:
        logger.warning("stat %s cannot be copied (%s); it is shared", getattr(stat, "name", stat), e)
        return stat


class _PrivateStats(Stats):
    """`Stats` over private copies of the registered stats."""

    def __init__(self, sender):
        super().__init__(sender)
        self._all_stats = [_fresh(stat) for stat in self._all_stats]


class InfluxDBProcessor:
    """Aggregates the messages it is given and writes the dumps to the destination named by
    `suffix` (mite 2.11's signature), or to each of `suffixes` with one aggregator for all."""

    def __init__(self, opts, suffix="", *, suffixes=None):
        include_buckets = bool(opts.get("--include-buckets", False))
        self._outputs = []
        try:
            for s in [suffix] if suffixes is None else suffixes:
                self._outputs.append(InfluxMetrics(include_buckets=include_buckets, suffix=s))
                problem = self._outputs[-1].check()
                if problem is not None:
                    raise InfluxUnreachable(problem)
        except BaseException:
            for output in self._outputs:
                InfluxdbWriter.close(output)  # nothing was written: no totals line
            raise
        self._stats = _PrivateStats(sender=self._on_stats_dump)

    @property
    def _influx_metrics(self):
        return self._outputs[0]

    def _on_stats_dump(self, dumped_stats):
        for output in self._outputs:
            output.process(dumped_stats)

    def process_message(self, msg):
        self._stats.process(msg)

    def close(self):
        # The last dump, which mite 2.11 never sends (it dumps only when a message arrives).
        self._stats.flush()
        problems = []
        for output in self._outputs:
            lost = output.close()
            if lost:
                problems.append(
                    f"{lost} InfluxDB points for {output.address} could not be written "
                    f"(last error: {output.last_error})"
                )
        if problems:
            raise InfluxDataLost("; ".join(problems))
