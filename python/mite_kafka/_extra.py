"""Whether aiokafka (the `kafka` extra) is installed, and the one-line error when it is not."""

try:
    import aiokafka
except ModuleNotFoundError as e:
    # Only aiokafka itself missing is the extra's absence; a broken aiokafka install says so itself.
    if e.name is None or e.name.split(".")[0] != "aiokafka":
        raise
    aiokafka = None


def missing():
    """The error for using mite_kafka without aiokafka: one line naming the extra."""
    return ModuleNotFoundError(
        'mite_kafka needs aiokafka, which is not installed: pip install "mite[kafka]"',
        name="aiokafka",
    )
