"""Failures: transport errors raise `acurl.AcurlError("curl failed with code N <libcurl text>")`,
bad arguments raise ValueError, and the optional `timeout=` our engine adds."""

import asyncio
import re

import pytest
from httpsupport import beyond_reference, metrics, require_engine, run_journey, with_session

acurl = require_engine()
from mite_http import mite_http  # noqa: E402  (after the engine gate)

CURL_ERROR = re.compile(r"^curl failed with code (\d+) \S.*$")


def transport_error(url, **kwargs):
    """The AcurlError a GET of `url` raises, and whether the same session works afterwards."""

    async def body(s):
        with pytest.raises(acurl.AcurlError) as info:
            await s.get(url, **kwargs)
        return info.value

    return with_session(acurl, body)


def curl_code(exc):
    match = CURL_ERROR.match(str(exc))
    assert match, f"unexpected message: {exc!s}"
    return int(match.group(1))


def test_connection_refused(closed_port):
    exc = transport_error(f"http://127.0.0.1:{closed_port}/")
    assert "curl failed with code" in str(exc)
    assert curl_code(exc) == 7  # CURLE_COULDNT_CONNECT
    assert str(exc) == "curl failed with code 7 Couldn't connect to server"


def test_server_closing_mid_body(http_server):
    exc = transport_error(http_server.url("/drop"))
    assert curl_code(exc) == 18  # CURLE_PARTIAL_FILE
    assert str(exc) == "curl failed with code 18 Transferred a partial file"


def test_server_closing_without_a_reply(http_server):
    exc = transport_error(http_server.url("/empty-reply"))
    assert curl_code(exc) == 52  # CURLE_GOT_NOTHING
    assert str(exc) == "curl failed with code 52 Server returned nothing (no headers, no data)"


def test_acurl_error_is_an_exception():
    assert issubclass(acurl.AcurlError, Exception)
    assert issubclass(acurl.RequestError, Exception)


def test_session_still_works_after_a_transport_error(http_server, closed_port):
    async def body(s):
        for url in (f"http://127.0.0.1:{closed_port}/", http_server.url("/drop")):
            with pytest.raises(acurl.AcurlError):
                await s.get(url)
        return await s.get(http_server.url("/json"))

    assert with_session(acurl, body).json()["hello"] == "world"


def test_failed_request_sends_no_http_metrics(http_server, closed_port):
    @mite_http
    async def journey(ctx):
        async with ctx.transaction("failing"):
            await ctx.http.get(http_server.url("/json"))
            await ctx.http.get(f"http://127.0.0.1:{closed_port}/")

    sent = []

    async def runner(ctx):
        with pytest.raises(acurl.AcurlError) as info:
            await journey(ctx)
        sent.append(info.value)

    _, messages, _ = run_journey(runner)
    assert curl_code(sent[0]) == 7
    assert [m["response_code"] for m in metrics(messages)] == [200]
    [exception] = [m for m in messages if m["type"] == "exception"]
    assert exception["ex_type"] == "AcurlError"
    assert "curl failed with code 7" in exception["message"]
    [txn] = [m for m in messages if m["type"] == "txn"]
    assert txn["had_error"] is True and txn["transaction"] == "failing"


# -- bad arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"data": 12}, "data must be str or bytes"),
        ({"data": "x", "json": {}}, "use only one or none of data or json"),
        ({"auth": ("only-user",)}, "auth must be a 2-tuple of strings"),
        ({"auth": ("user", 5)}, "auth must be a 2-tuple of strings"),
        ({"cookies": {"n": 5}}, "cookie value must be string or Cookie class"),
    ],
)
def test_bad_arguments_raise_value_error(http_server, kwargs, message):
    async def body(s):
        with pytest.raises(ValueError, match=re.escape(message)):
            await s.post(http_server.url("/echo"), **kwargs)
        return await s.get(http_server.url("/json"))  # and nothing is left half-done

    assert with_session(acurl, body).status_code == 200


def test_url_must_be_a_string(http_server):
    async def body(s):
        with pytest.raises(ValueError, match="url must be a string"):
            await s.get(http_server.url("/json").encode())

    with_session(acurl, body)


# -- timeouts (not in acurl 1.2.1: skipped there) --------------------------------------------------


@beyond_reference("per-request timeout=")
def test_request_timeout_raises(http_server):
    async def body(s):
        with pytest.raises(acurl.AcurlError) as info:
            await s.get(http_server.url("/slow?ms=2000&t=req"), timeout=0.2)
        return info.value

    # Code 28 (CURLE_OPERATION_TIMEDOUT) is the behaviour: had the timeout not fired, the server's
    # answer would have come back as a 200.
    assert curl_code(with_session(acurl, body)) == 28


@beyond_reference("per-request timeout=")
def test_generous_request_timeout_lets_the_response_through(http_server):
    async def body(s):
        return await s.get(http_server.url("/slow?ms=100&t=ok"), timeout=10)

    assert with_session(acurl, body).body == b"slow done\n"


@beyond_reference("per-request timeout=")
@pytest.mark.parametrize(
    "value, message",
    [(0, "timeout must be a positive number of seconds, not 0"),
     (-1.5, "timeout must be a positive number of seconds, not -1.5"),
     (float("nan"), "timeout must be a positive number of seconds, not NaN"),
     (1e300, "timeout is too large: 1e300 s")],
)  # fmt: skip
def test_a_timeout_that_is_not_a_usable_duration_is_a_value_error(http_server, value, message):
    async def body(s):
        with pytest.raises(ValueError) as info:
            await s.get(http_server.url("/json"), timeout=value)
        return str(info.value)

    assert with_session(acurl, body) == message


@beyond_reference("CurlWrapper.session(timeout=)")
def test_session_timeout_applies_to_every_request(http_server):
    async def body(s):
        first = await s.get(http_server.url("/json"))
        with pytest.raises(acurl.AcurlError) as info:
            await s.get(http_server.url("/slow?ms=2000&t=session"))
        return first, info.value

    first, exc = with_session(acurl, body, timeout=0.2)
    assert first.status_code == 200
    assert curl_code(exc) == 28


@beyond_reference("CurlWrapper.session(timeout=) and per-request timeout=")
def test_request_timeout_overrides_the_session_timeout(http_server):
    async def body(s):
        return await s.get(http_server.url("/slow?ms=400&t=override"), timeout=10)

    assert with_session(acurl, body, timeout=0.2).status_code == 200


@beyond_reference("per-request timeout=")
def test_timeout_through_mite_http(http_server):
    @mite_http
    async def journey(ctx):
        with pytest.raises(acurl.AcurlError) as info:
            await ctx.http.get(http_server.url("/slow?ms=2000&t=journey"), timeout=0.2)
        return curl_code(info.value)

    _, sent, code = run_journey(journey)
    assert code == 28
    assert metrics(sent) == []


# -- cancellation ------------------------------------------------------------------------------------


def test_a_request_cancelled_while_in_flight_leaves_the_session_usable(http_server):
    async def body(s):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(s.get(http_server.url("/slow?ms=500&t=cancelled")), 0.05)
        task = asyncio.ensure_future(s.get(http_server.url("/slow?ms=500&t=task")))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await s.get(http_server.url("/json"))
        await asyncio.sleep(0.6)  # the abandoned transfers finish meanwhile; nobody is woken
        return after, await s.get(http_server.url("/json"))

    after, later = with_session(acurl, body)
    assert after.status_code == 200 and later.status_code == 200


# -- proxies from the environment --------------------------------------------------------------------

_PROXY_PROBE = """
import asyncio, sys
import acurl

async def main(url):
    session = acurl.CurlWrapper(asyncio.get_running_loop()).session()
    try:
        r = await session.get(url)
        print("status", r.status_code)
    except acurl.AcurlError as e:
        print("error", str(e).split()[4])  # "curl failed with code N ..."

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize(
    ("extra_env", "expected"),
    [
        ({"http_proxy": "http://127.0.0.1:{closed}"}, "error 7"),  # the dead proxy is used
        ({"http_proxy": "http://127.0.0.1:{closed}", "no_proxy": "127.0.0.1"}, "status 200"),
        ({"ALL_PROXY": "http://127.0.0.1:{closed}"}, "error 7"),
        ({}, "status 200"),
    ],
)
def test_proxy_environment_variables_are_honoured(http_server, closed_port, extra_env, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({k: v.format(closed=closed_port) for k, v in extra_env.items()})
    out = subprocess.run(
        [sys.executable, "-c", _PROXY_PROBE, http_server.url("/json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == expected, out.stderr
