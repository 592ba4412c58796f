"""Whether thrift (the `finagle` extra) is installed, and the one-line error when it is not."""

from mite._extras import MissingExtraError

try:
    import thrift
except ModuleNotFoundError as e:
    # Only thrift itself missing is the extra's absence; a broken thrift install says so itself.
    if e.name is None or e.name.split(".")[0] != "thrift":
        raise
    thrift = None


def missing():
    """The error for using mite_finagle without thrift: one line naming the extra (`mite` prints it
    as `mite: error: ...` and exits 1; an ImportError, so `except ImportError` catches it)."""
    return MissingExtraError(
        'mite_finagle needs thrift, which is not installed: pip install "mite[finagle]"',
        name="thrift",
    )
