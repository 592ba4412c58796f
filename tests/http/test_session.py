"""Sessions: verbs, request bodies and headers, auth, keep-alive, concurrency, and the `ctx.http`
session that `@mite_http` gives a journey."""

import asyncio
import json

import pytest
from httpsupport import (
    metrics,
    reference_bug,
    require_engine,
    run,
    run_journey,
    with_session,
)

acurl = require_engine()
from mite_http import mite_http  # noqa: E402  (after the engine gate on purpose)


def header_values(headers, name):
    """All values of header `name` (any case) in a list of [name, value] pairs."""
    return [v for k, v in headers if k.lower() == name.lower()]


# -- verbs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
def test_each_verb_reaches_the_server_as_itself(http_server, verb):
    async def body(s):
        return await getattr(s, verb)(http_server.url(f"/echo?verb={verb}"))

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.json()["method"] == verb.upper()
    assert r.request.method == verb.upper().encode()
    assert isinstance(r.request.method, bytes)
    assert http_server.requests_to(f"/echo?verb={verb}")[-1]["method"] == verb.upper()


def test_head_of_an_empty_resource(http_server):
    async def body(s):
        return await s.head(http_server.url("/empty?head=1"))

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.body == b""
    assert r.headers["X-Empty"] == "yes"
    assert r.request.method == b"HEAD"
    assert http_server.requests_to("/empty?head=1")[-1]["method"] == "HEAD"


@reference_bug(
    "HEAD is sent as CURLOPT_CUSTOMREQUEST without NOBODY, so libcurl waits for "
    "the Content-Length bytes a HEAD response never carries: it hangs",
    run=False,
)
def test_head_returns_headers_without_waiting_for_a_body(http_server):
    async def body(s):
        first = await s.head(http_server.url("/echo"))
        big = await s.head(http_server.url("/big"))
        after = await s.get(http_server.url("/json"))  # the connection is still in step
        return first, big, after

    first, big, after = with_session(acurl, body)
    assert first.status_code == 200 and first.body == b""
    assert int(first.headers["Content-Length"]) > 0
    assert big.body == b"" and big.headers["Content-Length"] == str(10 * 1024 * 1024)
    assert after.json()["hello"] == "world"


# -- request bodies --------------------------------------------------------------------------------


def test_str_data_is_sent_utf8_encoded(http_server):
    text = "caf\u00e9 \u2603"

    async def body(s):
        return await s.post(http_server.url("/echo"), data=text)

    r = with_session(acurl, body)
    sent = text.encode("utf-8")
    assert r.json()["body"].encode("latin-1") == sent
    assert r.request.data == sent
    assert r.upload_size == float(len(sent))
    assert isinstance(r.upload_size, float)


def test_bytes_data_is_sent_verbatim(http_server):
    payload = bytes([0, 1, 2, 255, 10, 13, 0])

    async def body(s):
        return await s.put(http_server.url("/echo"), data=payload)

    r = with_session(acurl, body)
    echo = r.json()
    assert echo["body"].encode("latin-1") == payload
    assert echo["body_length"] == len(payload)
    assert header_values(echo["headers"], "Content-Length") == [str(len(payload))]


def test_data_without_content_type_gets_libcurls_form_default(http_server):
    async def body(s):
        return await s.post(http_server.url("/echo"), data="a=1&b=2")

    r = with_session(acurl, body)
    assert header_values(r.json()["headers"], "Content-Type") == [
        "application/x-www-form-urlencoded"
    ]
    assert r.request.headers == {}  # the default is libcurl's, not part of the request's headers


def test_json_body_is_serialised_with_json_content_type(http_server):
    obj = {"name": "mite", "numbers": [1, 2, 3], "nested": {"ok": True, "none": None}}

    async def body(s):
        return await s.post(http_server.url("/echo"), json=obj)

    r = with_session(acurl, body)
    echo = r.json()
    assert echo["body"].encode() == json.dumps(obj).encode()
    assert json.loads(echo["body"]) == obj
    assert header_values(echo["headers"], "Content-Type") == ["application/json"]
    assert r.request.headers == {"Content-Type": "application/json"}
    assert r.request.data == json.dumps(obj).encode()


def test_json_keeps_an_explicit_content_type(http_server):
    async def body(s):
        return await s.patch(
            http_server.url("/echo"),
            json=[1, 2],
            headers={"Content-Type": "application/vnd.mite+json"},
        )

    r = with_session(acurl, body)
    echo = r.json()
    assert echo["method"] == "PATCH"
    assert header_values(echo["headers"], "Content-Type") == ["application/vnd.mite+json"]
    assert json.loads(echo["body"]) == [1, 2]


def test_no_body_means_no_content_length(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo"))

    r = with_session(acurl, body)
    echo = r.json()
    assert echo["body_length"] == 0
    assert header_values(echo["headers"], "Content-Length") == []
    assert r.request.data is None
    assert r.upload_size == 0.0


# -- request headers, query, auth ----------------------------------------------------------------


def test_custom_headers_are_sent(http_server):
    headers = {"X-One": "1", "X-Words": "two words, and a comma", "User-Agent": "mite-tests"}

    async def body(s):
        return await s.get(http_server.url("/echo"), headers=headers)

    r = with_session(acurl, body)
    seen = r.json()["headers"]
    for name, value in headers.items():
        assert header_values(seen, name) == [value]
    assert r.request.headers == headers


def test_headers_may_be_given_as_pairs(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo"), headers=[("X-A", "1"), ("X-B", "2")])

    r = with_session(acurl, body)
    seen = r.json()["headers"]
    assert header_values(seen, "X-A") == ["1"] and header_values(seen, "X-B") == ["2"]
    assert r.request.headers == {"X-A": "1", "X-B": "2"}


def test_compressed_encodings_are_offered(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo"))

    offered = header_values(with_session(acurl, body).json()["headers"], "Accept-Encoding")
    assert len(offered) == 1
    encodings = {e.strip() for e in offered[0].split(",")}
    assert {"gzip", "deflate"} <= encodings


def test_query_string_is_sent_as_given(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo?a=1&b=two%20words&c="))

    r = with_session(acurl, body)
    assert r.json()["path"] == "/echo?a=1&b=two%20words&c="
    assert r.json()["query"] == {"a": "1", "b": "two words", "c": ""}
    assert r.url == http_server.url("/echo?a=1&b=two%20words&c=")


def test_basic_auth(http_server):
    async def body(s):
        good = await s.get(http_server.url("/basic-auth/alice/s3cret"), auth=("alice", "s3cret"))
        bad = await s.get(http_server.url("/basic-auth/alice/s3cret"), auth=("alice", "nope"))
        none = await s.get(http_server.url("/basic-auth/alice/s3cret"))
        return good, bad, none

    good, bad, none = with_session(acurl, body)
    assert good.status_code == 200 and good.json() == {"authenticated": True, "user": "alice"}
    assert good.request.auth == ("alice", "s3cret")
    assert bad.status_code == 401 and bad.json() == {"authenticated": False}
    assert none.status_code == 401 and none.request.auth is None


def test_a_plain_get_after_other_requests_carries_none_of_their_options(http_server):
    # One request at a time, so every request reuses the same connection (and engine handle).
    async def body(s):
        await s.post(
            http_server.url("/echo?first"),
            data="payload",
            headers={"X-Extra": "1"},
            auth=("u", "p"),
            cookies={"given": "yes"},
        )
        await s.head(http_server.url("/empty"))
        plain = await s.get(http_server.url("/echo?plain"))
        with_header = await s.get(http_server.url("/echo?header"), headers={"X-Extra": "2"})
        plain_again = await s.get(http_server.url("/echo?again"))
        return plain, with_header, plain_again

    plain, with_header, plain_again = with_session(acurl, body)
    for r in (plain, plain_again):
        echo = r.json()
        assert echo["method"] == "GET" and echo["body_length"] == 0
        for name in ("X-Extra", "Authorization", "Content-Length", "Content-Type"):
            assert header_values(echo["headers"], name) == [], name
        # the cookie given once is in the session's jar from then on, as in acurl
        assert header_values(echo["headers"], "Cookie") == ["given=yes"]
    assert header_values(with_header.json()["headers"], "X-Extra") == ["2"]


# -- connections -------------------------------------------------------------------------------------


def test_sequential_requests_reuse_the_connection(http_server):
    before = http_server.connections

    async def body(s):
        return [await s.get(http_server.url(f"/echo?keepalive={i}")) for i in range(20)]

    responses = with_session(acurl, body)
    assert [r.json()["query"]["keepalive"] for r in responses] == [str(i) for i in range(20)]
    opened = http_server.connections - before
    assert 1 <= opened <= 2
    ports = {r["client_port"] for r in http_server.requests_to("/echo?keepalive=")[-20:]}
    assert len(ports) <= 2


def test_concurrent_requests_in_one_session_get_their_own_responses(http_server):
    async def body(s):
        return await asyncio.gather(
            *(s.get(http_server.url(f"/slow?ms={50 + 10 * i}&i={i}")) for i in range(8)),
            *(s.post(http_server.url(f"/echo?i={i}"), data=f"body {i}") for i in range(8)),
        )

    responses = with_session(acurl, body)
    assert all(r.status_code == 200 for r in responses)
    slow, echoes = responses[:8], responses[8:]
    assert [r.url for r in slow] == [
        http_server.url(f"/slow?ms={50 + 10 * i}&i={i}") for i in range(8)
    ]
    assert all(r.body == b"slow done\n" for r in slow)
    assert [r.json()["body"] for r in echoes] == [f"body {i}" for i in range(8)]


def test_sessions_of_one_wrapper_are_independent_objects(http_server):
    async def main():
        wrapper = acurl.CurlWrapper(asyncio.get_running_loop())
        a, b = wrapper.session(), wrapper.session()
        assert a is not b
        ra = await a.get(http_server.url("/echo?s=a"))
        rb = await b.get(http_server.url("/echo?s=b"))
        return ra.json()["query"], rb.json()["query"]

    assert run(main()) == ({"s": "a"}, {"s": "b"})


# -- @mite_http ----------------------------------------------------------------------------------------


def test_mite_http_gives_the_journey_a_session_and_takes_it_away(http_server):
    seen = {}

    @mite_http
    async def journey(ctx, path, extra):
        seen["has_http"] = hasattr(ctx, "http")
        r = await ctx.http.get(http_server.url(path))
        seen["cookies"] = ctx.http.cookies()
        return r.json()["path"], extra

    ctx, sent, result = run_journey(journey, "/echo?journey=1", "x")
    assert seen == {"has_http": True, "cookies": {}}
    assert result == ("/echo?journey=1", "x")
    assert not hasattr(ctx, "http")
    assert [m["effective_url"] for m in metrics(sent)] == [http_server.url("/echo?journey=1")]


def test_mite_http_session_has_every_verb(http_server):
    @mite_http
    async def journey(ctx):
        out = []
        for verb in ("get", "post", "put", "patch", "delete", "options"):
            r = await getattr(ctx.http, verb)(http_server.url("/echo"), data="x")
            out.append(r.json()["method"])
        r = await ctx.http.head(http_server.url("/empty"))
        out.append(r.request.method.decode())
        return out

    _, sent, result = run_journey(journey)
    assert result == ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    assert [m["method"] for m in metrics(sent)] == [v.encode() for v in result]


def test_journeys_on_one_loop_share_connections_but_not_cookies(http_server):
    jars = []

    @mite_http
    async def journey(ctx, n):
        jars.append(ctx.http.cookies())
        await ctx.http.get(http_server.url(f"/cookies/set?journey{n}=yes"))
        for i in range(5):
            await ctx.http.get(http_server.url(f"/echo?j={n}&i={i}"))

    async def two_journeys(ctx):
        await journey(ctx, 1)
        await journey(ctx, 2)

    before = http_server.connections
    _, sent, _ = run_journey(two_journeys)
    assert jars == [{}, {}]  # the second journey's session starts with an empty jar
    assert len(metrics(sent)) == 12
    assert http_server.connections - before == 1  # one connection pool per event loop
    first_cookies = header_values(http_server.requests_to("/echo?j=1&i=4")[-1]["headers"], "Cookie")
    last_cookies = header_values(http_server.requests_to("/echo?j=2&i=4")[-1]["headers"], "Cookie")
    assert first_cookies == ["journey1=yes"]
    assert last_cookies == ["journey2=yes"]


def test_cookies_given_in_one_journey_do_not_reach_the_next(http_server):
    @mite_http
    async def journey(ctx, n, cookies):
        r = await ctx.http.get(http_server.url(f"/echo?given={n}"), cookies=cookies)
        return header_values(r.json()["headers"], "Cookie")

    async def two_journeys(ctx):
        return await journey(ctx, 1, {"given": "1"}), await journey(ctx, 2, None)

    _, _, (first, second) = run_journey(two_journeys)
    assert first == ["given=1"]
    assert second == []


def test_mite_http_on_uvloop(http_server):
    import uvloop  # a dependency of mite (and of mite 2.11): its absence fails this test

    @mite_http
    async def journey(ctx):
        rs = [await ctx.http.get(http_server.url(f"/echo?uv={i}")) for i in range(3)]
        rs += await asyncio.gather(*(ctx.http.get(http_server.url("/json")) for _ in range(3)))
        return [r.status_code for r in rs]

    _, sent, codes = run_journey(journey, loop=uvloop.new_event_loop())
    assert codes == [200] * 6
    assert len(metrics(sent)) == 6


def test_mite_http_keeps_the_journeys_name_doc_and_attributes():
    async def journey(ctx, a, b=2):
        """Fetches things."""

    journey._fixture = True  # set before decorating, as fixture helpers may
    decorated = mite_http(journey)
    assert decorated.__name__ == "journey"
    assert decorated.__doc__ == "Fetches things."
    assert decorated.__wrapped__ is journey
    assert decorated._fixture is True
    decorated._fixture_label = "after"  # set after decorating, as fixture helpers may
    assert decorated._fixture_label == "after"
    assert asyncio.iscoroutinefunction(decorated)
    assert callable(decorated)


def test_mite_http_journey_arguments_result_and_errors(http_server):
    seen = {}

    class Boom(Exception):
        pass

    @mite_http
    async def journey(ctx, first, *rest, flag=False, **extra):
        seen["args"] = (first, rest, flag, extra)
        await ctx.http.get(http_server.url("/json"))
        if flag == "raise":
            raise Boom("from the journey")
        return ("tuple", "result")

    async def body(ctx):
        coro = journey(ctx, 1, 2, 3, flag=True, other="x")
        assert asyncio.iscoroutine(coro)
        assert not hasattr(ctx, "http")  # nothing happens until it is awaited
        result = await coro
        assert not hasattr(ctx, "http")
        with pytest.raises(Boom):
            await journey(ctx, 0, flag="raise")
        return result

    _, sent, result = run_journey(body)
    assert result == ("tuple", "result")
    assert seen["args"] == (0, (), "raise", {})
    assert len(metrics(sent)) == 2


@reference_bug("the session context has no try/finally: a journey that raises keeps ctx.http")
def test_ctx_http_is_taken_away_when_the_journey_raises(http_server):
    @mite_http
    async def journey(ctx):
        await ctx.http.get(http_server.url("/json"))
        raise ValueError("from the journey")

    async def body(ctx):
        with pytest.raises(ValueError):
            await journey(ctx)
        return hasattr(ctx, "http")

    _, _, still_there = run_journey(body)
    assert still_there is False


@reference_bug("the session context has no try/finally: a cancelled journey keeps ctx.http")
def test_mite_http_journey_as_a_task_can_be_cancelled(http_server):
    @mite_http
    async def journey(ctx):
        await ctx.http.get(http_server.url("/slow?ms=500&t=journey"))

    async def body(ctx):
        task = asyncio.get_running_loop().create_task(journey(ctx))
        await asyncio.sleep(0.05)
        assert hasattr(ctx, "http")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return hasattr(ctx, "http")

    _, sent, still_there = run_journey(body)
    assert still_there is False
    assert metrics(sent) == []

