"""Helpers scenario files use: importing specs, msgpack frames, and sleeping."""

import asyncio
import importlib

from ._native import pack_msg, unpack_msg

__all__ = ["spec_import", "pack_msg", "unpack_msg", "sleep"]


class SpecError(ValueError):
    """A `module:attribute` spec that cannot be imported; the message says which part failed."""


def spec_import(spec):
    """Imports `package.module:attribute` and returns the attribute."""
    if not isinstance(spec, str) or ":" not in spec:
        raise SpecError(f"{spec!r} is not a spec of the form package.module:attribute")
    module_name, attr = spec.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        # Only the spec's own module or one of its packages missing is the spec's fault; a module
        # that the spec's module imports and cannot find keeps its traceback.
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise SpecError(f"cannot import {spec!r}: no module named {e.name!r}") from e
        raise
    except SyntaxError as e:
        # A typo in a scenario file is a bad spec: one line naming the file and line.
        where = f"{e.filename}:{e.lineno}" if e.filename else f"line {e.lineno}"
        raise SpecError(f"cannot import {spec!r}: {where}: {type(e).__name__}: {e.msg}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise SpecError(f"cannot import {spec!r}: module {module_name!r} has no attribute {attr!r}") from None


async def sleep(delay, always=False, **kwargs):
    """`asyncio.sleep`, kept as a seam that tests and extensions can replace."""
    await asyncio.sleep(delay, **kwargs)


def _msg_backend_module(opts):
    """The module holding mite 2.11's socket classes for `--message-backend`: `mite.zmq`."""
    backend = opts.get("--message-backend", "ZMQ")
    if backend == "ZMQ":
        from . import zmq

        return zmq
    if backend == "nanomsg":
        # mite 2.11 offered nanomsg when its package was installed; ZeroMQ is the wire format
        # every mite component speaks by default, and the only one here.
        raise ValueError("--message-backend=nanomsg is not available in this build; ZMQ is the only message backend")
    raise ValueError(f"Unsupported backend {backend}")
