"""The one-line error for using mite_playwright without its library (the `playwright` extra)."""

from mite._extras import MissingExtraError


def missing(e, library, extra, needed_by="mite_playwright"):
    """The error for ModuleNotFoundError `e`, or None when `e` is not `library` itself missing
    (a broken install of an installed library keeps its own traceback)."""
    if e.name is None or e.name.partition(".")[0] != library:
        return None
    # No `name`: mite's spec_import takes an error naming a prefix of the spec's module (as
    # "selenium" is of "selenium_example") for that module missing, and would drop this message.
    return MissingExtraError(
        f'{needed_by} needs {library}, which is not installed: pip install "mite[{extra}]"'
    )
