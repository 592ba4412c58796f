"""The `acurl` module as scenario code uses it directly: names, `CurlWrapper(loop).session()`, the
session's response callback, and the shapes of what comes back."""

import asyncio

import pytest
from httpsupport import require_engine, run, with_session

acurl = require_engine()


def test_public_names():
    for name in ("CurlWrapper", "Session", "AcurlError", "RequestError", "Cookie", "Request"):
        assert hasattr(acurl, name), name


def test_curl_wrapper_session_on_the_running_loop(http_server):
    async def main():
        wrapper = acurl.CurlWrapper(asyncio.get_running_loop())
        session = wrapper.session()
        assert isinstance(session, acurl.Session)
        r = await session.get(http_server.url("/json"))
        return r

    r = run(main())
    assert r.status_code == 200
    assert isinstance(r.request, acurl.Request)


def test_session_methods_are_coroutines(http_server):
    async def body(s):
        calls = [getattr(s, verb)(http_server.url("/empty")) for verb in ("get", "post", "put")]
        assert all(asyncio.iscoroutine(c) for c in calls)
        return [r.status_code for r in await asyncio.gather(*calls)]

    assert with_session(acurl, body) == [200, 200, 200]


def test_response_callback_attribute_and_setter(http_server):
    seen = []

    async def body(s):
        assert s.response_callback is None
        s.set_response_callback(lambda r: seen.append(("setter", r.status_code)))
        await s.get(http_server.url("/status/404"))
        s.response_callback = lambda r: seen.append(("attribute", r.status_code))
        await s.get(http_server.url("/json"))
        s.set_response_callback(None)
        await s.get(http_server.url("/json"))

    with_session(acurl, body)
    assert seen == [("setter", 404), ("attribute", 200)]


def test_response_callback_receives_the_returned_response(http_server):
    seen = []

    async def body(s):
        s.set_response_callback(seen.append)
        return await s.get(http_server.url("/json"))

    r = with_session(acurl, body)
    assert seen == [r]


def test_response_callback_errors_reach_the_caller(http_server):
    class Boom(Exception):
        pass

    def explode(response):
        raise Boom(response.status_code)

    async def body(s):
        s.set_response_callback(explode)
        with pytest.raises(Boom, match="200"):
            await s.get(http_server.url("/json"))

    with_session(acurl, body)


def test_deprecated_response_code(http_server):
    async def body(s):
        return await s.get(http_server.url("/status/503"))

    r = with_session(acurl, body)
    with pytest.warns(DeprecationWarning):
        assert r.response_code == 503


def test_headers_are_a_dict(http_server):
    async def body(s):
        return await s.get(http_server.url("/json"))

    r = with_session(acurl, body)
    assert isinstance(r.headers, dict)
    assert dict(r.headers)["content-type"] == "application/json"


def test_history_is_a_list_of_responses(http_server):
    async def body(s):
        return await s.get(http_server.url("/chain/1"))

    r = with_session(acurl, body)
    assert isinstance(r.history, list)
    assert type(r.history[0]) is type(r)


_ABANDON = """
import asyncio, gc, sys
import acurl

async def main(url):
    session = acurl.CurlWrapper(asyncio.get_running_loop()).session()
    for i in range(20):
        asyncio.ensure_future(session.get(url + str(i)))
    await asyncio.sleep(0.05)  # the requests are in flight when the loop ends

for _ in range(5):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(main(sys.argv[1]))
    loop.close()
    gc.collect()
print("clean exit")
"""


def test_a_loop_closed_with_requests_in_flight_exits_cleanly(http_server):
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _ABANDON, http_server.url("/slow?ms=1000&t=abandoned")],
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stdout.strip()) == (0, "clean exit"), out.stderr[-2000:]
