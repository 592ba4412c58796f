"""`InfluxdbWriter`: batches of points sent on one background thread, one request at a time,
with every point counted as written or lost."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from . import http
from .line_protocol import to_body
from .settings import destination as _destination

__all__ = ["InfluxdbWriter"]

logger = logging.getLogger(__name__)


class InfluxdbWriter:
    """Writes to the destination named by the `INFLUXDB_*{suffix}` settings.

    `write_points` hands a batch to the writer thread and returns its Future, or None while the
    previous batch is still being sent (the caller keeps its points and tries again later).
    """

    # Skips in a row before each ERROR line: a few are normal when a write is slow; a run of
    # them means the server cannot keep up with the write cadence.
    CONSECUTIVE_SKIP_ALERT_THRESHOLD = 50

    def __init__(self, suffix="", destination=None, timeout=http.TIMEOUT):
        self.destination = destination or _destination(suffix)
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"mite.influxdb{suffix}"
        )
        self._busy = threading.Lock()
        self._count_lock = threading.Lock()
        self._skipped_writes = 0
        self._consecutive_skips = 0
        self.written_points = 0
        self.written_batches = 0
        self.failed_writes = 0
        self.last_error = None

    @property
    def address(self):
        return self.destination.address

    def check(self):
        """One line saying why the destination cannot be used, or None (see `http.check`)."""
        return http.check(self.destination, self.timeout)

    def _send(self, points):
        body = to_body(points)
        try:
            if body:
                http.post(self.destination, body, self.timeout)
        except http.WriteError as e:
            with self._count_lock:
                self.failed_writes += 1
                self.last_error = str(e)
            logger.error(
                "InfluxDB write of %d points to %s failed: %s", len(points), self.address, e
            )
            raise
        finally:
            self._busy.release()
        with self._count_lock:
            self.written_points += len(points)
            self.written_batches += 1

    def write_points(self, points):
        if not self._busy.acquire(blocking=False):
            self._skipped(len(points))
            return None
        self._consecutive_skips = 0
        try:
            return self._executor.submit(self._send, list(points))
        except BaseException:
            self._busy.release()
            raise

    def _skipped(self, n):
        self._skipped_writes += 1
        self._consecutive_skips += 1
        if self._consecutive_skips % self.CONSECUTIVE_SKIP_ALERT_THRESHOLD == 0:
            logger.error(
                "InfluxDB writer is falling behind: %d consecutive writes deferred (%d in all); "
                "the server is not keeping up with the write cadence",
                self._consecutive_skips,
                self._skipped_writes,
            )
        else:
            logger.debug(
                "InfluxDB write deferred: the previous one is still in flight (%d points wait)", n
            )

    def wait_idle(self):
        """Waits for the batch in flight (bounded by the request timeout)."""
        self._executor.submit(lambda: None).result()

    def close(self):
        self._executor.shutdown(wait=True)
