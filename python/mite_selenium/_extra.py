"""The one-line error for using mite_selenium without its library (the `selenium` extra)."""

from mite._extras import MissingExtraError


def missing(e, library, extra, needed_by="mite_selenium", install=None):
    """The error for ModuleNotFoundError `e`, or None when `e` is not `library` itself missing
    (a broken install of an installed library keeps its own traceback). `install` replaces the
    `pip install "mite[extra]"` advice for a library no extra ships."""
    if e.name is None or e.name.partition(".")[0] != library:
        return None
    # No `name`: mite's spec_import takes an error naming a prefix of the spec's module (as
    # "selenium" is of "selenium_example") for that module missing, and would drop this message.
    install = install or f'pip install "mite[{extra}]"'
    return MissingExtraError(f"{needed_by} needs {library}, which is not installed: {install}")
