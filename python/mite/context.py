"""The journey context: `Context` is native; this module adds the slow-path helpers it calls."""

import importlib
import os
import sys
import traceback

from ._native import Context, active_transaction
from .exceptions import MiteError  # noqa: F401  (importable from here, as in mite 2.11)

__all__ = ["Context", "active_transaction"]


def _tb_format_location(tb):
    try:
        frame = traceback.extract_tb(tb, limit=-1)[0]
        return f"{frame.filename}:{frame.lineno}:{frame.name}"
    except Exception:
        return "unable_to_format_source:0:none"


def _describe_exception(exc, include_stacktrace):
    """(message, ex_type, location, stacktrace) of an exception, as mite 2.11 reports them."""
    tb = exc.__traceback__
    message = traceback.format_exception_only(type(exc), exc)[-1].strip()
    stacktrace = "".join(traceback.format_tb(tb)) if include_stacktrace else None
    return message, type(exc).__name__, _tb_format_location(tb), stacktrace


def _post_mortem():
    """Runs the PYTHONPOSTMORTEM hook (default pdb.post_mortem), then exits, as `--debugging` asks."""
    name = os.environ.get("PYTHONPOSTMORTEM", "pdb.post_mortem")
    module, dot, func = name.rpartition(".")
    try:
        hook = getattr(importlib.import_module(module if dot else "builtins"), func)
    except Exception:
        import pdb

        hook = pdb.post_mortem
    hook()
    sys.exit(1)
