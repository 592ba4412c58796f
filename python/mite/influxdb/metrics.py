"""`InfluxMetrics`: stats dumps in, points out: buffered, written at most once a second, kept
(up to a bound) while the server fails, and counted when they cannot be kept."""

import logging
import threading
import time
from time import time_ns

from .http import WriteError
from .stats import INFLUX_STAT_TYPES, InfluxHistogram
from .writer import InfluxdbWriter

__all__ = ["InfluxMetrics", "InfluxDataLost"]

logger = logging.getLogger(__name__)


class InfluxDataLost(Exception):
    """Raised at the end of a run when points could not be written: the run exits non-zero."""


class InfluxMetrics(InfluxdbWriter):
    # Stats dump every 0.25 s; one write usually takes longer than that under load, so points
    # are gathered over several dumps and written at this slower cadence (mite 2.11's).
    MIN_FLUSH_INTERVAL = 1.0
    # Points kept while the server is slow or failing; past this the oldest are dropped (and
    # counted), so a dead server cannot grow memory without bound over a long test.
    MAX_PENDING_POINTS = 5000

    def __init__(self, include_buckets=False, suffix="", destination=None):
        super().__init__(suffix=suffix, destination=destination)
        self.include_buckets = include_buckets
        self.stats = {}
        self._pending_points = []
        self._pending_lock = threading.Lock()
        self._last_flush_time = time.monotonic()
        self.dropped_points = 0
        self._unknown_types = set()

    def _stat_for(self, dump):
        kind = dump["type"]
        if kind == "Histogram":
            return InfluxHistogram(dump["name"], dump, include_buckets=self.include_buckets)
        cls = INFLUX_STAT_TYPES.get(kind)
        if cls is None:
            if kind not in self._unknown_types:
                self._unknown_types.add(kind)
                logger.warning(
                    "InfluxDB output skips stats of unknown type %r (first: %s)", kind, dump["name"]
                )
            return None
        return cls(dump["name"], dump)

    def process(self, message):
        """Folds one stats dump (a list of stat dumps) in; writes when a second has passed."""
        touched = {}
        for dump in message:
            name = dump["name"]
            stat = self.stats.get(name)
            if stat is None:
                stat = self._stat_for(dump)
                if stat is None:
                    continue
                self.stats[name] = stat
                touched[name] = None  # a new stat writes every label tuple it came with
            else:
                touched[name] = stat.update(dump)
        now_ns = time_ns()
        points = []
        for name, keys in touched.items():
            points.extend(self.stats[name].to_points(now_ns, touched_keys=keys))
        self._add(points, front=False)
        self.flush()

    def _add(self, points, front):
        if not points:
            return
        with self._pending_lock:
            self._pending_points = (
                points + self._pending_points if front else self._pending_points + points
            )
            excess = len(self._pending_points) - self.MAX_PENDING_POINTS
            if excess > 0:
                del self._pending_points[:excess]
                self.dropped_points += excess
        if excess > 0:
            logger.error(
                "InfluxDB backlog for %s exceeded %d points: dropped the %d oldest (%d dropped in all)",
                self.address,
                self.MAX_PENDING_POINTS,
                excess,
                self.dropped_points,
            )

    def flush(self, force=False):
        """Hands the waiting points to the writer if a second has passed (or `force`) and it is idle."""
        now = time.monotonic()
        if not force and now - self._last_flush_time < self.MIN_FLUSH_INTERVAL:
            return
        with self._pending_lock:
            batch, self._pending_points = self._pending_points, []
        if not batch:
            return
        future = self.write_points(batch)
        if future is None:
            self._add(batch, front=True)
            return
        self._last_flush_time = now
        future.add_done_callback(lambda f: self._written(f, batch))

    def _written(self, future, batch):
        error = future.exception()
        if error is None:
            return
        if isinstance(error, WriteError) and error.retry:
            # Rewriting a point is harmless: the same series and timestamp overwrite it.
            self._add(batch, front=True)
        else:
            with self._pending_lock:
                self.dropped_points += len(batch)
            logger.error(
                "InfluxDB rejected %d points for %s; they are dropped", len(batch), self.address
            )

    @property
    def pending_points(self):
        with self._pending_lock:
            return len(self._pending_points)

    def close(self):
        """Writes what is left (after the write in flight), then stops the writer thread."""
        self.wait_idle()
        self.flush(force=True)
        self.wait_idle()
        with self._pending_lock:
            unsent, self._pending_points = len(self._pending_points), []
            self.dropped_points += unsent
        super().close()
        lost = self.dropped_points
        logger.info(
            "InfluxDB %s: %d points written in %d requests, %d failed requests, %d points lost",
            self.address,
            self.written_points,
            self.written_batches,
            self.failed_writes,
            lost,
        )
        return lost
