"""The recorder: `data_created` / `purge_data` messages kept as msgpack files (native)."""

from ._native import Recorder

__all__ = ["Recorder"]
