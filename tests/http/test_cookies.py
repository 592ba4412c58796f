"""Cookies: the per-session jar, cookies given per request, `acurl.Cookie` and mite_http's
`create_http_cookie`."""

import asyncio

from httpsupport import require_engine, run, run_journey, with_session

acurl = require_engine()
from mite_http import create_http_cookie, mite_http  # noqa: E402  (after the engine gate)


def cookie_header(echo):
    """The Cookie header values the echo endpoint received."""
    return [v for k, v in echo["headers"] if k.lower() == "cookie"]


def test_cookies_set_by_the_server_are_sent_back(http_server):
    async def body(s):
        set_ = await s.get(http_server.url("/cookies/set?flavour=oat&count=2"))
        back = await s.get(http_server.url("/echo"))
        return set_, back, s.cookies()

    set_, back, jar = with_session(acurl, body)
    assert set_.headers["Set-Cookie"] == "flavour=oat; Path=/, count=2; Path=/"
    assert set_.cookies == {"flavour": "oat", "count": "2"}
    assert back.json()["cookies"] == {"flavour": "oat", "count": "2"}
    assert len(cookie_header(back.json())) == 1
    assert jar == {"flavour": "oat", "count": "2"}


def test_session_cookies_is_a_plain_dict_and_starts_empty(http_server):
    async def body(s):
        empty = s.cookies()
        await s.get(http_server.url("/cookies/set?a=1"))
        return empty, s.cookies()

    empty, after = with_session(acurl, body)
    assert empty == {} and type(empty) is dict
    assert after == {"a": "1"} and type(after) is dict


def test_a_later_set_cookie_replaces_the_value(http_server):
    async def body(s):
        await s.get(http_server.url("/cookies/set?a=1"))
        await s.get(http_server.url("/cookies/set?a=2"))
        return s.cookies(), await s.get(http_server.url("/echo"))

    jar, back = with_session(acurl, body)
    assert jar == {"a": "2"}
    assert back.json()["cookies"] == {"a": "2"}


def test_erase_all_cookies(http_server):
    async def body(s):
        await s.get(http_server.url("/cookies/set?a=1&b=2"))
        s.erase_all_cookies()
        return s.cookies(), await s.get(http_server.url("/echo"))

    jar, back = with_session(acurl, body)
    assert jar == {}
    assert back.json()["cookies"] == {}
    assert cookie_header(back.json()) == []


def test_cookies_set_on_a_redirect_reach_the_next_hop(http_server):
    async def body(s):
        return await s.get(http_server.url("/cookies/set-redirect?hop=1"))

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.json()["cookies"] == {"hop": "1"}
    assert r.history[0].status_code == 302
    assert r.history[0].headers["Set-Cookie"] == "hop=1; Path=/"


def test_cookies_given_per_request_are_sent(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo"), cookies={"given": "yes", "other": "x y"})

    r = with_session(acurl, body)
    assert r.json()["cookies"] == {"given": "yes", "other": "x y"}
    assert r.request.cookies == {"given": "yes", "other": "x y"}


def test_cookies_given_per_request_join_the_session_jar(http_server):
    # acurl hands them to libcurl's shared jar, so later requests of the session send them too.
    async def body(s):
        await s.get(http_server.url("/cookies/set?from_server=1"))
        first = await s.get(http_server.url("/echo"), cookies={"given": "yes"})
        later = await s.get(http_server.url("/echo"))
        return first, later, s.cookies()

    first, later, jar = with_session(acurl, body)
    assert first.json()["cookies"] == {"from_server": "1", "given": "yes"}
    assert first.request.cookies == {"from_server": "1", "given": "yes"}
    assert later.json()["cookies"] == {"from_server": "1", "given": "yes"}
    assert jar == {"from_server": "1", "given": "yes"}


def test_request_cookies_include_the_session_cookies_for_the_host(http_server):
    async def body(s):
        await s.get(http_server.url("/cookies/set?jar=1"))
        return await s.get(http_server.url("/echo"))

    r = with_session(acurl, body)
    assert r.request.cookies == {"jar": "1"}
    assert "--cookie jar=1" in r.request.to_curl()


def test_cookie_objects_carry_their_own_domain_and_name(http_server):
    async def body(s):
        here = acurl.Cookie("127.0.0.1", "here", "1")
        elsewhere = acurl.Cookie("elsewhere.example", "elsewhere", "2")
        return await s.get(http_server.url("/echo"), cookies={"k1": here, "k2": elsewhere})

    r = with_session(acurl, body)
    # the dict key is ignored for Cookie values; only the matching domain is sent
    assert r.json()["cookies"] == {"here": "1"}


def test_acurl_cookie_fields():
    c = acurl.Cookie("example.com", "name", "value")
    assert (c.domain, c.name, c.value) == ("example.com", "name", "value")


def test_create_http_cookie_in_a_journey(http_server):
    @mite_http
    async def journey(ctx):
        cookie = create_http_cookie(ctx, "127.0.0.1", "made", "in-journey")
        assert isinstance(cookie, acurl.Cookie)
        assert (cookie.domain, cookie.name, cookie.value) == ("127.0.0.1", "made", "in-journey")
        keyword = create_http_cookie(ctx, domain="127.0.0.1", name="kw", value="2")
        r = await ctx.http.get(http_server.url("/echo"), cookies={"x": cookie, "y": keyword})
        return r.json()["cookies"], ctx.http.cookies()

    _, _, (sent, jar) = run_journey(journey)
    assert sent == {"made": "in-journey", "kw": "2"}
    assert jar == {"made": "in-journey", "kw": "2"}


def test_each_session_has_its_own_jar(http_server):
    async def main():
        wrapper = acurl.CurlWrapper(asyncio.get_running_loop())
        a, b = wrapper.session(), wrapper.session()
        await a.get(http_server.url("/cookies/set?only_a=1"))
        rb = await b.get(http_server.url("/echo"))
        return a.cookies(), b.cookies(), rb.json()["cookies"]

    assert run(main()) == ({"only_a": "1"}, {}, {})
