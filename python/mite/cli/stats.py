"""`mite.cli.stats`: mite 2.11's stats function, a `mite.zmq.Receiver` feeding `Stats`, whose
dumps a `mite.zmq.Sender` pushes (the `mite stats` command runs the stats natively)."""

import asyncio

from ..stats import DUMP_INTERVAL, Stats
from ..utils import _msg_backend_module
from .serve import log_totals, run_until_stopped

__all__ = ["Stats", "stats"]


def _create_sender(opts):
    sender = _msg_backend_module(opts).Sender()
    sender.connect(opts["--stats-out-socket"])
    return sender


def _create_receiver(opts):
    receiver = _msg_backend_module(opts).Receiver()
    receiver.connect(opts["--stats-in-socket"])
    return receiver


def _split(value):
    return None if value is None else value.split(",")


class _Flushing:
    """Stats fed by the receiver and also flushed on a timer (both on the loop's thread): mite
    2.11 dumped only when a message arrived, so a test's last fraction of a second was lost."""

    def __init__(self, stats):
        self.stats = stats
        self.fresh = False

    def process(self, msg):
        dumped_at = self.stats.dump_timeout
        self.stats.process(msg)
        # `process` dumps by itself once the interval has passed; then nothing is fresh.
        self.fresh = self.stats.dump_timeout == dumped_at

    def flush(self):
        if self.fresh:
            self.fresh = False
            self.stats.flush()

    async def run(self, stop_func):
        while not stop_func():
            await asyncio.sleep(DUMP_INTERVAL)
            self.flush()
        self.flush()


def stats(opts):
    """Aggregates the messages on `--stats-in-socket`; dumps go to `--stats-out-socket`."""
    receiver = _create_receiver(opts)
    agg_sender = _create_sender(opts)
    stats = Stats(
        sender=agg_sender.send,
        include=_split(opts.get("--stats-include-processors")),
        exclude=_split(opts.get("--stats-exclude-processors")),
    )
    flushing = _Flushing(stats)
    receiver.add_listener(flushing.process)
    run_until_stopped(receiver.run, flushing.run)
    if isinstance(getattr(receiver, "counts", None), dict):
        log_totals("stats", receiver.counts)
    return 0
