"""Running a 2.11-style component (`receiver.run`, `duplicator.run`) on its own event loop
until it returns or SIGINT/SIGTERM stops it."""

import asyncio
import logging

from .graceful import STOP_SIGNALS

logger = logging.getLogger(__name__)


def run_until_stopped(start, *helpers):
    """Runs `start(stop_func)` on a new event loop, with `helpers` (coroutine functions taking
    the same `stop_func`) beside it. Returns the stop signal's number, or None if `start`
    returned by itself. mite 2.11 ran forever and died on Ctrl-C with a traceback."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stopped = []
    installed = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stopped.append, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread: the caller stops it through its own means

    def stop_func():
        return bool(stopped)

    async def main():
        tasks = [loop.create_task(helper(stop_func)) for helper in helpers]
        try:
            return await start(stop_func)
        finally:
            stopped.append(None)
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        loop.run_until_complete(main())
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        asyncio.set_event_loop(None)
        loop.close()
    return stopped[0] if stopped and stopped[0] is not None else None


def log_totals(name, counts):
    logger.info("%s totals: %s", name, " ".join(f"{k}={v}" for k, v in counts.items()))
