"""Optional libraries behind the extras (`pip install "mite[name]"`): one import helper, one error."""

import importlib

from ._errors import UnavailableError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ModuleNotFoundError, UnavailableError):
    """An optional library is not installed; the message names the extra that installs it. The
    one class for every extra (mite.otel, mite_websocket, mite_amqp, mite_selenium, ...): `mite`
    prints it as one line and exits 1, as for any unusable server or library."""


def require(module, extra):
    """Import `module`, or raise MissingExtraError naming `extra` (a one-line message, no chain)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        top = module.partition(".")[0]
        # Only the library itself missing means "install the extra"; an ImportError from
        # inside an installed library is a real bug and keeps its traceback.
        if e.name is not None and e.name.partition(".")[0] != top:
            raise
        raise MissingExtraError(
            f"{module!r} is not installed: it comes with pip install \"mite[{extra}]\"",
            name=module,
        ) from None
