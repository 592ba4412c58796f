"""Exceptions shared by modules that must not import each other (re-exported by mite.scenario)."""


class StopVolumeModel(Exception):
    """Raised by a volume model to say its scenario is over and should be removed."""
