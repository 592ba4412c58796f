"""`mite influxdb init` (zero points for every stat, so dashboards find their series before a
test) and `mite influxdb_exporter` (stats dumps from `mite stats` written to InfluxDB)."""

import logging
import signal
import sys
from time import time_ns

from .. import _native
from ..exceptions import InfluxConfigError
from ..influxdb import http
from ..influxdb.line_protocol import InfluxPoint, to_body
from ..influxdb.metrics import InfluxMetrics
from ..influxdb.settings import destination, suffix_for
from ..influxdb.writer import InfluxdbWriter
from ..influxdb_processor import InfluxUnreachable
from ..stats import load_stats
from ..utils import unpack_msg

__all__ = ["influxdb_init", "influxdb_exporter", "init_points"]

# How long the exporter waits for a dump before it looks at its stop flag and write timer.
RECV_WAIT_MS = 250

logger = logging.getLogger(__name__)

_HISTOGRAM_INIT = {
    **{f"p{p}": 0.0 for p in (50, 75, 90, 95, 99)},
    **{f"p{p}_cumulative": 0.0 for p in (50, 75, 90, 95, 99)},
    "sum": 0.0,
    "count": 0,
    "avg": 0.0,
    "sum_cumulative": 0.0,
    "count_cumulative": 0,
    "avg_cumulative": 0.0,
}


def init_points(stats, tns):
    """mite 2.11's init points: every label tagged "__init__", every field zero (counters as
    integers), histograms as `NAME_summary`; other stat classes are skipped, as there."""
    points = []
    for stat in stats:
        tags = dict.fromkeys(stat.extractor.labels, "__init__")
        kind = type(stat).__name__
        if kind in ("Counter", "Accumulator"):
            points.append(InfluxPoint(stat.name, tags, {"value": 0, "value_cumulative": 0}, tns))
        elif kind == "Gauge":
            points.append(InfluxPoint(stat.name, tags, {"value": 0.0}, tns))
        elif kind == "Histogram":
            points.append(InfluxPoint(f"{stat.name}_summary", tags, dict(_HISTOGRAM_INIT), tns))
    return points


def influxdb_init(opts):
    """Writes the init points to each of the `--influxdb=N` destinations (default 1)."""
    stats = load_stats()
    body = to_body(init_points(stats, time_ns()))
    exit_code = 0
    for i in range(int(opts.get("--influxdb") or 1)):
        suffix = suffix_for(i)
        label = f"instance{suffix or ' (default)'}"
        try:
            dest = destination(suffix)
            http.post(dest, body)
        except (InfluxConfigError, http.WriteError) as e:
            where = "" if isinstance(e, InfluxConfigError) else f" at {dest.address}"
            print(f"mite: error: influxdb init {label}{where}: {e}", file=sys.stderr)
            exit_code = 1
            continue
        logger.info(f"Initialized {len(stats)} metrics for {label}:")
        for stat in stats:
            logger.info(f"  - {stat.name}")
    return exit_code


def _take(frames, metrics, counts):
    for raw in frames:
        counts["dumps"] += 1
        try:
            metrics.process(unpack_msg(raw))
        except Exception as e:
            counts["malformed"] += 1
            logger.warning(
                "skipped a malformed stats dump of %d bytes: %s: %s", len(raw), type(e).__name__, e
            )
    return len(frames)


class _StopFlag:
    def __init__(self):
        self.signum = None

    def __call__(self, signum, frame):
        self.signum = signum


def influxdb_exporter(opts):
    """Binds `--stats-out-socket` and writes every stats dump to the default destination."""
    metrics = InfluxMetrics(include_buckets=bool(opts.get("--include-buckets", False)))
    problem = metrics.check()
    if problem is not None:
        InfluxdbWriter.close(metrics)  # nothing was written: no totals line
        raise InfluxUnreachable(problem)
    try:
        sock = _native.Socket("PULL", opts["--stats-out-socket"], bind=True)
    except OSError:
        InfluxdbWriter.close(metrics)
        raise
    stop = _StopFlag()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    counts = {"dumps": 0, "malformed": 0}
    logger.info(
        "InfluxDB exporter: stats from %s to %s", opts["--stats-out-socket"], metrics.address
    )
    try:
        while stop.signum is None:
            _take(sock.recv_batch(RECV_WAIT_MS, 100), metrics, counts)
            # Points held back by a slow write go out without waiting for the next dump.
            metrics.flush()
        # Dumps already queued when the signal came (e.g. the last one of a stopping
        # `mite stats`) are written too.
        while _take(sock.recv_batch(0, 100), metrics, counts):
            pass
    finally:
        sock.close(0)
        lost = metrics.close()
    logger.info("totals: %s lost=%d", " ".join(f"{k}={v}" for k, v in counts.items()), lost)
    if lost:
        print(
            f"mite: error: {lost} InfluxDB points could not be written to {metrics.address}",
            file=sys.stderr,
        )
        return 1
    return 0
