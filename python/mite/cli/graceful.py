"""Ctrl-C and SIGTERM during a run: no new journeys, a grace period, then the rest cancelled."""

import asyncio
import signal

GRACE_SECONDS = 5.0
# SIGTERM is what containers and process managers send; it stops a run the same way as Ctrl-C.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Signal handlers for one run. `interrupted` receives the first stop signal's number; a
    second signal cancels the journeys at once. Tasks in `keep` (the runner's own, the caller's
    helpers) are never cancelled by it."""

    def __init__(self, loop, runner, keep, logger, interrupted=None, on_stop=None):
        self.loop, self.runner, self.logger = loop, runner, logger
        self.keep = set(keep)
        self.interrupted = [] if interrupted is None else interrupted
        # Called at the first signal, beside `runner.stop()` (a runner's transport stops waiting).
        self.on_stop = on_stop

    def cancel_journeys(self):
        for task in asyncio.all_tasks(self.loop):
            if task not in self.keep:
                task.cancel()

    def _on_signal(self, signum):
        if self.interrupted:
            self.cancel_journeys()
            return
        self.interrupted.append(signum)
        self.logger.warning("Interrupted: no new journeys; running ones get %.0fs to finish", GRACE_SECONDS)
        self.runner.stop()
        if self.on_stop is not None:
            self.on_stop()
        self.loop.call_later(GRACE_SECONDS, self.cancel_journeys)

    def install(self):
        for signum in STOP_SIGNALS:
            try:
                self.loop.add_signal_handler(signum, self._on_signal, signum)
            except (NotImplementedError, RuntimeError):
                pass  # not the main thread, or a loop without signal support

    def remove(self):
        for signum in STOP_SIGNALS:
            self.loop.remove_signal_handler(signum)
