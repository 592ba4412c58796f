"""The collector: raw frames into `DIR/current`, rolled every N messages (native)."""

from ._native import Collector

__all__ = ["Collector"]
