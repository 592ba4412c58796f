"""Helpers for unit-testing journeys (mite 2.11's `mite.test`): `run_single_journey` runs one
journey on a real `Context` and returns what it sent; `http_spy` records the responses of an
`@mite_http` journey's `ctx.http` calls."""

import inspect
from collections import defaultdict

from .context import Context

__all__ = ["http_spy", "run_single_journey"]

_SPIED_METHODS = ("get", "post", "delete", "put", "patch")


class _InterceptHttp:
    """Stands in for the journey's context: every attribute is the real context's, except that
    `http` stays the spy. The session `@mite_http` sets as `ctx.http` is kept aside as
    `_old_http` (and removed again when `@mite_http` deletes `ctx.http`), so the spy can call it."""

    def __init__(self, http, obj):
        http._parent = self
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "http", http)
        object.__setattr__(self, "_old_http", None)

    def __getattribute__(self, name):
        try:
            return object.__getattribute__(self, name)
        except AttributeError:
            return getattr(object.__getattribute__(self, "_obj"), name)

    def __setattr__(self, name, value):
        if name == "http":
            object.__setattr__(self, "_old_http", value)
        elif name in ("_obj", "_old_http"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._obj, name, value)

    def __delattr__(self, name):
        if name == "http":
            object.__delattr__(self, "_old_http")
        else:
            delattr(self._obj, name)


class _NewHttp:
    """The spy: forwards `get/post/delete/put/patch` to the real session and records each
    response under its method's name. Other attributes (head, cookies, additional_metrics...)
    are the real session's."""

    _parent = None

    def __init__(self, requests):
        self._requests = requests

    def __getattr__(self, name):
        # Only reached for names not found on the spy itself.
        return getattr(self._parent._old_http, name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._parent._old_http, name, value)


def _spied(method):
    async def call(self, *args, **kwargs):
        response = await getattr(self._parent._old_http, method)(*args, **kwargs)
        self._requests[method].append(response)
        return response

    call.__name__ = call.__qualname__ = method
    return call


for _method in _SPIED_METHODS:
    setattr(_NewHttp, _method, _spied(_method))


def http_spy(journey):
    """Wraps an `@mite_http` journey: awaiting `http_spy(journey)(ctx, *args)` runs it and returns
    `{"http": {"get": [response, ...], "post": [...], ...}}`, the responses of its `ctx.http`
    calls by method (get, post, delete, put, patch)."""

    async def wrapper(ctx, *args):
        requests = defaultdict(list)
        # `@mite_http` sets `ctx.http` itself when the journey starts, so the spy cannot simply be
        # put on the context beforehand: the journey is given a stand-in context whose `http`
        # keeps pointing at the spy while the real session is kept aside for it.
        await journey(_InterceptHttp(_NewHttp(requests), ctx), *args)
        return {"http": requests}

    return wrapper


def _takes_config(checkout):
    try:
        params = inspect.signature(checkout).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


async def run_single_journey(config, journey, datapool=None):
    """Runs `journey` once on a `Context(send, config)`, with the data of one item checked out of
    `datapool` if given. Returns the journey's result (a dict, `{}` for None) with `"messages"`:
    every message sent, as `(message_dict, {})` pairs."""
    messages = []

    def _send(message, **kwargs):
        messages.append((message, kwargs))

    ctx = Context(_send, config)
    if datapool is None:
        result = await journey(ctx)
    else:
        # Datapools take the config (mite 2.11 called `checkout()` without it, which its own
        # datapools reject); one written for that call, without the parameter, still works.
        checkout = datapool.checkout
        item = await (checkout(config) if _takes_config(checkout) else checkout())
        result = await journey(ctx, *item.data)
    if result is None:
        result = {}
    result["messages"] = messages
    return result
