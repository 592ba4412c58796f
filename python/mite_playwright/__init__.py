"""Playwright journeys: `@mite_playwright` starts Playwright and passes the journey a wrapper
around it; every call that returns a response (`page.goto`, `page.reload`, …) sends
`playwright_page_load_metrics` and `playwright_paint_metrics`, and a failing call
`playwright_error`."""

import inspect
import logging
from functools import wraps

from ._extra import missing
from ._metrics import collect_metrics

try:
    from playwright.async_api import async_playwright
except ModuleNotFoundError as e:
    raise (missing(e, "playwright", "playwright") or e) from None

__all__ = ["PlaywrightWrapper", "collect_metrics", "mite_playwright"]

logger = logging.getLogger(__name__)


def _unwrap(value):
    return value._wrapped if isinstance(value, PlaywrightWrapper) else value


class PlaywrightWrapper:
    """Wraps a Playwright object: attributes that are objects come back wrapped, and methods
    report responses and failures on the context.

    mite 2.11 made every method a coroutine function, so Playwright's synchronous methods
    (`page.locator`, `page.on`, `page.is_closed`, …) failed once awaited, and did nothing when
    not. Here a method returns what Playwright's returns: an awaitable stays awaitable, anything
    else comes back at once (wrapped when it is an object)."""

    def __init__(self, wrapped_obj, context):
        self._wrapped = wrapped_obj
        self._context = context

    def __getattr__(self, name):
        attr = getattr(self._wrapped, name)
        if callable(attr):
            return self._wrap_method(attr)
        if hasattr(attr, "__dict__"):
            return PlaywrightWrapper(attr, self._context)
        return attr

    def __repr__(self):
        return f"PlaywrightWrapper({self._wrapped!r})"

    # Looked up on the type, not through __getattr__: `async with page.expect_navigation():`.
    async def __aenter__(self):
        return self._wrap_result(await self._wrapped.__aenter__())

    async def __aexit__(self, *exc_info):
        return await self._wrapped.__aexit__(*exc_info)

    def _wrap_result(self, result):
        return PlaywrightWrapper(result, self._context) if hasattr(result, "__dict__") else result

    def _report_error(self, method, error):
        self._context.send("playwright_error", method=method.__name__, error=str(error))

    def _wrap_method(self, method):
        @wraps(method)
        def call(*args, **kwargs):
            # Playwright checks the types of what it is given: pass it its own objects.
            args = [_unwrap(a) for a in args]
            kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
            try:
                result = method(*args, **kwargs)
            except Exception as e:
                self._report_error(method, e)
                raise
            if inspect.isawaitable(result):
                return self._finish(method, result)
            return self._wrap_result(result)

        return call

    async def _finish(self, method, awaitable):
        try:
            result = await awaitable
            # Anything response-like (goto, reload, go_back, wait_for_response, …) is measured.
            if result and hasattr(result, "request") and hasattr(result, "status"):
                await collect_metrics(result, self._context)
            return self._wrap_result(result)
        except Exception as e:
            self._report_error(method, e)
            raise


def mite_playwright(func):
    """`@mite_playwright async def journey(ctx, playwright, *args)`: Playwright is started for
    the journey (its browsers are launched by the journey) and stopped after it."""

    @wraps(func)
    async def wrapper(ctx, *args, **kwargs):
        playwright = await async_playwright().start()
        try:
            return await func(ctx, PlaywrightWrapper(playwright, ctx), *args, **kwargs)
        finally:
            await playwright.stop()

    return wrapper
