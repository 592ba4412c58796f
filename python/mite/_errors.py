"""Exceptions shared by modules that must not import each other (re-exported by mite.scenario)."""


class StopVolumeModel(Exception):
    """Raised by a volume model to say its scenario is over and should be removed."""


class UnavailableError(Exception):
    """A server, bucket, table or library a test needs is missing or unreachable.

    The message is one line naming it; the command line prints that line and exits 1 (the
    test could not run), where a mistake in the command or spec itself exits 2.
    """
