"""`mite duplicator`, `stats`, `prometheus_exporter`, `collector`, `recorder` and `receiver`.

Each runs natively with the GIL released (taken only to call Python stats or processors), logs
a `totals:` line when SIGINT or SIGTERM stops it, and returns 0.
"""

import logging

from .. import _native
from ..stats import load_stats, native_spec
from .common import UsageError

logger = logging.getLogger(__name__)


def _split(value):
    return None if value is None else value.split(",")


def duplicator(opts):
    _native.run_duplicator(opts["--message-socket"], list(opts["OUT_SOCKET"]))
    return 0


def stats(opts):
    specs, python_stats, order = [], [], []
    for stat in load_stats(_split(opts["--stats-include-processors"]), _split(opts["--stats-exclude-processors"])):
        spec = native_spec(stat)
        if spec is None:
            order.append(("python", len(python_stats)))
            python_stats.append(stat)
        else:
            order.append(("native", len(specs)))
            specs.append(spec)
    if python_stats:
        logger.info("%d stats run in Python: %s", len(python_stats), ", ".join(str(getattr(s, "name", s)) for s in python_stats))
    _native.run_stats(opts["--stats-in-socket"], opts["--stats-out-socket"], specs, python_stats, order)
    return 0


def prometheus_exporter(opts):
    _native.run_exporter(opts["--stats-out-socket"], opts["--web-address"])
    return 0


def collector(opts):
    from ..utils import spec_import

    filter_fn = spec_import(opts["--collector-filter"]) if opts.get("--collector-filter") else None
    try:
        roll = int(opts["--collector-roll"])
    except ValueError:
        raise UsageError(f"--collector-roll expects a number, got {opts['--collector-roll']!r}") from None
    _native.run_collector(
        opts["--collector-socket"],
        opts["--collector-dir"],
        roll,
        bool(opts.get("--collector-use-json")),
        filter_fn,
    )
    return 0


def recorder(opts):
    _native.run_recorder(opts["--recorder-socket"], opts["--recorder-dir"] or "recorder_data")
    return 0


def receiver(opts):
    """Feeds every frame on RECEIVE_SOCKET to the `--processor` classes' methods."""
    from ..utils import spec_import

    listeners, raw_listeners = [], []
    for spec in opts["--processor"]:
        handler_class = spec_import(spec)
        try:
            handler = handler_class()
        except TypeError as e:
            raise UsageError(f"processor {spec} could not be created: {e}") from None
        process_message = getattr(handler, "process_message", None)
        process_raw_message = getattr(handler, "process_raw_message", None)
        if not (callable(process_message) or callable(process_raw_message)):
            raise UsageError(f"processor {spec} has no process_message or process_raw_message method")
        if callable(process_message):
            listeners.append(process_message)
        if callable(process_raw_message):
            raw_listeners.append(process_raw_message)
    _native.run_receiver(opts["RECEIVE_SOCKET"], listeners, raw_listeners)
    return 0
