"""Runs one distributed component by its command words, with the same error handling as
`mite scenario test`: bad input is one line and status 2, an unusable socket or folder status 1."""

import logging
import os
import sys

from ..utils import SpecError
from .common import UsageError

LOG_FORMAT = "[%(asctime)s] <%(levelname)s> [%(name)s] [%(pathname)s:%(lineno)d %(funcName)s] %(message)s"


def _command(words):
    from . import control, services

    return {
        "controller": control.controller,
        "runner": control.runner,
        "duplicator": services.duplicator,
        "collector": services.collector,
        "recorder": services.recorder,
        "stats": services.stats,
        "receiver": services.receiver,
        "prometheus_exporter": services.prometheus_exporter,
    }[words]


def run(opts, words):
    """Entry point from the native command line; returns the exit status."""
    level = (opts.get("--log-level") or "INFO").upper()
    logging.basicConfig(level=level, format=LOG_FORMAT)
    if not opts.get("--exclude-working-directory"):
        sys.path.insert(0, os.getcwd())
    try:
        return _command(words)(opts)
    except (SpecError, UsageError) as e:
        print(f"mite: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"mite: error: {e}", file=sys.stderr)
        return 1
