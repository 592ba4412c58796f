"""`mite duplicator`, `stats`, `prometheus_exporter`, `collector`, `recorder` and `receiver`.

All but the receiver run natively with the GIL released; each logs a `totals:` line when
SIGINT or SIGTERM stops it, and returns 0.
"""

import logging
import signal

from .. import _native
from ..stats import load_stats, native_spec
from ..utils import unpack_msg
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


class _Stop(BaseException):  # not caught by a processor's `except Exception`
    pass


def _raise_stop(signum, frame):
    raise _Stop(signum)


def receiver(opts):
    """Feeds every frame on RECEIVE_SOCKET to the `--processor` classes (in Python)."""
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
    sock = _native.Socket("PULL", opts["RECEIVE_SOCKET"])
    counts = {"received": 0, "malformed": 0, "failed": 0}
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise_stop)
    try:
        while True:
            for raw in sock.recv_batch(100):
                counts["received"] += 1
                for listener in raw_listeners:
                    _call(listener, raw, counts)
                if listeners:
                    try:
                        msg = unpack_msg(raw)
                    except Exception as e:
                        counts["malformed"] += 1
                        logger.warning("skipped a malformed frame of %d bytes: %s", len(raw), e)
                        continue
                    for listener in listeners:
                        _call(listener, msg, counts)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        sock.close(0)
    logger.info("totals: %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def _call(listener, arg, counts):
    try:
        listener(arg)
    except Exception:
        counts["failed"] += 1
        logger.exception("processor %r raised", listener)
