"""The errors a browser journey raises: MiteErrors, so each becomes an `error` message."""

from mite.exceptions import MiteError


class OptionError(MiteError):
    """A value that is not one of a field's options (radio buttons)."""

    def __init__(self, value, options):
        super().__init__(f"{value!r} not in options {options!r}", value=value, options=options)


class ElementNotFoundError(MiteError):
    """`Page.assert_element_in` found nothing; the search terms are the message's fields."""

    def __init__(self, **kwargs):
        text = (kwargs.pop("text") or "").replace("'", "").replace('"', "")
        super().__init__(
            f"Could not find element in page with search terms: {sorted(kwargs.items())}",
            text=text,
            **kwargs,
        )
