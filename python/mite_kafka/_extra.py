"""Whether aiokafka (the `kafka` extra) is installed, and the one-line error when it is not."""

from mite._extras import MissingExtraError

try:
    import aiokafka
except ModuleNotFoundError as e:
    # Only aiokafka itself missing is the extra's absence; a broken aiokafka install says so itself.
    if e.name is None or e.name.split(".")[0] != "aiokafka":
        raise
    aiokafka = None


def missing():
    """The error for using mite_kafka without aiokafka: one line naming the extra (`mite` prints it
    as `mite: error: ...` and exits 1; an ImportError, so `except ImportError` catches it)."""
    return MissingExtraError(
        'mite_kafka needs aiokafka, which is not installed: pip install "mite[kafka]"',
        name="aiokafka",
    )
