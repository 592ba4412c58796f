"""`mite.cli.duplicator`: mite 2.11's duplicator function over `mite.zmq.Duplicator` (the
`mite duplicator` command runs the native duplicator, which keeps a backlog per output)."""

import contextlib
import os
import signal

from ..utils import _msg_backend_module
from .serve import log_totals, run_until_stopped


def _create_duplicator(opts):
    return _msg_backend_module(opts).Duplicator(opts["--message-socket"], opts["OUT_SOCKET"])


def _messages_to_dump():
    # As in 2.11: SIGUSR1 prints the next N messages (MITE_DEBUG_MESSAGES_TO_DUMP, else the
    # number in MITE_DEBUG_MESSAGES_TO_DUMP_FILE, else 100).
    count = 100
    if "MITE_DEBUG_MESSAGES_TO_DUMP" in os.environ:
        with contextlib.suppress(ValueError):
            count = int(os.environ["MITE_DEBUG_MESSAGES_TO_DUMP"])
    else:
        path = os.environ.get("MITE_DEBUG_MESSAGES_TO_DUMP_FILE", "/tmp/mite_messages_to_dump")
        with contextlib.suppress(OSError, ValueError), open(path) as fin:
            count = int(fin.read().strip())
    return count


def duplicator(opts):
    """Copies every frame on `--message-socket` to each OUT_SOCKET until stopped."""
    duplicator = _create_duplicator(opts)

    def handler(_signum, _stack_frame):
        duplicator._debug_messages_to_dump = _messages_to_dump()

    with contextlib.suppress(ValueError):  # signals can only be set from the main thread
        signal.signal(signal.SIGUSR1, handler)
    run_until_stopped(duplicator.run)
    if isinstance(getattr(duplicator, "counts", None), dict):
        log_totals("duplicator", duplicator.counts)
    return 0
