"""The names scenario files import from `mite`: version, test_context, pacing helpers, MiteError."""

import random
import time
from importlib.metadata import PackageNotFoundError, distribution

import mite.utils

from .context import Context
from .exceptions import MiteError  # noqa: F401  (re-exported for scenario files)

try:
    __version__ = distribution(__name__).version
except PackageNotFoundError:
    # Running from a source tree without an installed distribution.
    __version__ = "2.11.0"


def test_context(extensions=("http",), **config):
    """A context for trying a journey by hand: messages are printed, `config` is its config."""
    runner_config = {}
    runner_config.update(config.items())
    return Context(print, runner_config)


class ensure_separation_from_callable:
    """Async context manager making its body last at least `sep_callable()` seconds.

    The callable is asked on exit, so each use can draw a new separation.
    """

    def __init__(self, sep_callable, loop=None):
        self._sep_callable = sep_callable

    async def __aenter__(self):
        self._start = time.time()

    def _sleep_time(self):
        return self._sep_callable() - (time.time() - self._start)

    async def __aexit__(self, *args):
        sleep_time = self._sleep_time()
        if sleep_time > 0:
            await mite.utils.sleep(sleep_time)


def ensure_fixed_separation(separation):
    """Pad the body of `async with ensure_fixed_separation(5):` out to `separation` seconds."""

    def fixed_separation():
        return separation

    return ensure_separation_from_callable(fixed_separation)


def ensure_average_separation(mean_separation, plus_minus=None):
    """Pad the body out to a separation drawn uniformly from `mean_separation ± plus_minus`.

    `plus_minus` defaults to a quarter of `mean_separation`.
    """
    if plus_minus is None:
        plus_minus = mean_separation * 0.25

    def average_separation():
        return mean_separation + (random.random() * plus_minus * 2) - plus_minus

    return ensure_separation_from_callable(average_separation)
