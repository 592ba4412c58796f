"""Shared plumbing for the HTTP-layer tests: the engine gate, event-loop runners, the journey
harness that captures what a context sends, and the markers for known acurl 1.2.1 bugs.

Only public names are imported (`acurl`, `mite_http`, `mite.context`), so the same files run
against the reference mite 2.11.0 / acurl 1.2.1 and against our engine.
"""

import asyncio
import importlib
import os
from importlib.metadata import PackageNotFoundError, version

import pytest


def _reference_acurl():
    """True when `acurl` is the reference distribution (acurl 1.2.1 from the package index)."""
    try:
        return version("acurl") == "1.2.1"
    except PackageNotFoundError:
        return False


REFERENCE = _reference_acurl()


def require_engine():
    """Returns `acurl` once the HTTP engine's public names are importable.

    A missing engine is an installation bug on this project's machines, so it fails the calling
    module at collection (an ImportError, red), never a skip."""
    acurl = importlib.import_module("acurl")
    mite_http = importlib.import_module("mite_http")
    missing = [
        name
        for mod, name in ((acurl, "CurlWrapper"), (acurl, "AcurlError"), (mite_http, "mite_http"))
        if not hasattr(mod, name)
    ]
    if missing:
        raise ImportError(f"the HTTP engine lacks {', '.join(missing)}")
    return acurl


def reference_bug(reason, run=True):
    """Marks a test of correct behaviour that acurl 1.2.1 gets wrong: an expected failure on the
    reference (strict, so a silent fix upstream is noticed), a plain test on our engine. `run=False`
    for bugs that hang or crash the interpreter (those tests are not run on the reference)."""
    return pytest.mark.xfail(REFERENCE, reason="acurl 1.2.1 bug: " + reason, run=run, strict=True)


def beyond_reference(reason):
    """Marks a test of an option acurl 1.2.1 lacks: skipped on the reference only (saying so). On
    our engine it runs, so a TypeError from a missing or broken option fails it."""
    return pytest.mark.skipif(REFERENCE, reason=f"acurl 1.2.1 has no such feature: {reason}")


# -- event loops -----------------------------------------------------------------------------


def _new_loop():
    # MITE_HTTP_TEST_LOOP=uvloop runs the suite on uvloop (what mite's runner uses).
    if os.environ.get("MITE_HTTP_TEST_LOOP") == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(coro, loop=None):
    """Runs a coroutine to completion on a fresh event loop (closed afterwards)."""
    loop = loop or _new_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def session_for_running_loop(acurl, **kwargs):
    """A new acurl session on a new `CurlWrapper` bound to the running loop."""
    return acurl.CurlWrapper(asyncio.get_running_loop()).session(**kwargs)


def with_session(acurl, body, **session_kwargs):
    """Runs `await body(session)` on a fresh loop with a fresh session; returns its result."""

    async def main():
        return await body(session_for_running_loop(acurl, **session_kwargs))

    return run(main())


# -- journeys through @mite_http ---------------------------------------------------------------

ID_DATA = {
    "test": "http-suite",
    "runner_id": 7,
    "journey": "tests.http:journey",
    "context_id": 3,
    "scenario_id": 11,
    "scenario_data_id": 5,
}
ID_KEYS = tuple(ID_DATA)
# What `Context.send` appends after the message's own fields, in this order.
TAIL_KEYS = ("type", "time", *ID_KEYS, "transaction", "transaction_id")
# The fields mite_http puts into every `http_metrics` message, in this order, before the
# response callback's additional metrics and the tail.
HTTP_METRICS_KEYS = (
    "start_time",
    "effective_url",
    "response_code",
    "dns_time",
    "connect_time",
    "tls_time",
    "transfer_start_time",
    "first_byte_time",
    "total_time",
    "primary_ip",
    "method",
    "download_size",
)


def make_context(sent):
    """A mite Context whose sent messages are appended to the list `sent`."""
    from mite.context import Context

    return Context(sent.append, {}, id_data=dict(ID_DATA))


def run_journey(journey, *args, loop=None):
    """Runs `journey(ctx, *args)` on a fresh loop; returns (ctx, sent messages, its result)."""
    sent = []
    ctx = make_context(sent)
    result = run(journey(ctx, *args), loop=loop)
    return ctx, sent, result


def metrics(sent):
    """The `http_metrics` messages among those sent, in order."""
    return [m for m in sent if m["type"] == "http_metrics"]


# -- small checks shared by several files --------------------------------------------------------


def assert_timings_ordered(r, fresh_connection):
    """The timing fields of a response are floats in libcurl's order. On a reused connection
    libcurl reports connect/appconnect as 0.0 (nothing was connected), so only the rest is ordered."""
    names = (
        "namelookup_time",
        "connect_time",
        "appconnect_time",
        "pretransfer_time",
        "starttransfer_time",
        "total_time",
    )
    values = {n: getattr(r, n) for n in names}
    for name, value in values.items():
        assert isinstance(value, float), (name, value)
        assert value >= 0.0, (name, value)
    assert values["pretransfer_time"] <= values["starttransfer_time"] <= values["total_time"]
    assert values["namelookup_time"] <= values["pretransfer_time"]
    assert values["total_time"] > 0.0
    if fresh_connection:
        assert values["connect_time"] > 0.0
        assert values["namelookup_time"] <= values["connect_time"] <= values["pretransfer_time"]
        if values["appconnect_time"]:  # TLS only
            assert values["connect_time"] <= values["appconnect_time"]
            assert values["appconnect_time"] <= values["pretransfer_time"]
    else:
        assert values["connect_time"] == 0.0
        assert values["appconnect_time"] == 0.0
