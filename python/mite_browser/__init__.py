"""Browser-like HTTP journeys: `@browser_decorator()` gives `ctx.browser`, which fetches pages
over the journey's `ctx.http` (`@mite_http`) and parses them (links, forms, embedded resources)."""

from functools import wraps

from mite import ensure_fixed_separation
from mite_http import mite_http

from ._extra import missing

try:
    import bs4  # noqa: F401  (the parser every page uses)
except ModuleNotFoundError as e:
    raise (missing(e, "bs4", "browser") or e) from None

from ._browser import Browser
from ._errors import ElementNotFoundError, OptionError
from ._form import (
    BaseFormField,
    CheckboxField,
    FakeFormField,
    FileInputField,
    Form,
    RadioField,
    SelectField,
    TextAreaField,
    _field_is_disabled,
)
from ._page import EMBEDDED_URL_REGEX, Page, Resource, Script, Stylesheet
from ._urls import url_builder

__all__ = [
    "EMBEDDED_URL_REGEX",
    "BaseFormField",
    "Browser",
    "CheckboxField",
    "ElementNotFoundError",
    "FakeFormField",
    "FileInputField",
    "Form",
    "OptionError",
    "Page",
    "RadioField",
    "Resource",
    "Script",
    "SelectField",
    "Stylesheet",
    "TextAreaField",
    "_field_is_disabled",
    "browser_decorator",
    "url_builder",
]


def browser_decorator(separation=0, embedded_resources=False):
    """`@browser_decorator(separation=s, embedded_resources=b)`: the journey runs under
    `@mite_http` with `ctx.browser`, taking at least `s` seconds."""

    def wrapper_factory(func):
        @wraps(func)
        @mite_http
        async def wrapper(context, *args, **kwargs):
            context.browser = Browser(context, embedded_resources)
            try:
                async with ensure_fixed_separation(separation):
                    return await func(context, *args, **kwargs)
            finally:
                del context.browser

        return wrapper

    return wrapper_factory
