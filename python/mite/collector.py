"""The collector: raw frames into `DIR/current`, rolled every N messages (native writer)."""

import logging
import os

from . import _native

logger = logging.getLogger(__name__)

__all__ = ["Collector"]


class Collector:
    """mite 2.11's `Collector`, writing through the native collector file writer.

    The settings are kept as mite 2.11 keeps them (`_target_dir` absolute, `_roll_after`,
    `_collector_id`, `_filter_fn`, `_use_json`): callers and 2.11's own tests read them back.
    """

    def __init__(
        self,
        target_dir=None,
        roll_after=100000,
        collector_id=None,
        filter_fn=None,
        use_json=False,
    ):
        logger.info("Initializing collector")
        if target_dir is None:
            target_dir = "collector_data"
        self._target_dir = os.path.abspath(target_dir)
        self._roll_after = roll_after
        self._collector_id = collector_id
        self._filter_fn = filter_fn
        self._use_json = use_json
        self._writer = _native.Collector(
            self._target_dir, roll_after, collector_id, filter_fn, use_json
        )

    def process_raw_message(self, raw):
        """Appends one raw frame (if `filter_fn` keeps it), rolling the file every N messages."""
        self._writer.process_raw_message(raw)
