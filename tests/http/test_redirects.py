"""Redirects: which codes turn into GET, history, chains, max_redirects and allow_redirects."""

import pytest
from httpsupport import require_engine, with_session

acurl = require_engine()


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


@pytest.mark.parametrize("code", [301, 302, 303])
def test_post_redirected_by_301_302_303_becomes_a_get_without_body(http_server, code):
    start = http_server.url(f"/redirect/{code}?to=/echo%3Fcode%3D{code}")

    async def body(s):
        return await s.post(start, data="payload", headers={"X-Kept": "yes"})

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.url == http_server.url(f"/echo?code={code}")
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["body_length"] == 0
    assert header_values(echo["headers"], "Content-Length") == []
    assert header_values(echo["headers"], "X-Kept") == ["yes"]  # headers go to every hop
    assert r.request.method == b"GET" and r.request.data is None
    [hop] = r.history
    assert hop.status_code == code
    assert hop.url == start
    assert hop.request.method == b"POST" and hop.request.data == b"payload"
    assert hop.redirect_url == http_server.url(f"/echo?code={code}")
    assert hop.headers["Location"] == f"/echo?code={code}"


@pytest.mark.parametrize("code", [307, 308])
def test_post_redirected_by_307_308_keeps_method_and_body(http_server, code):
    async def body(s):
        return await s.post(
            http_server.url(f"/redirect/{code}?to=/echo%3Fkeep%3D{code}"), data=b"the body"
        )

    r = with_session(acurl, body)
    echo = r.json()
    assert r.status_code == 200
    assert echo["method"] == "POST"
    assert echo["body"] == "the body"
    assert r.request.method == b"POST" and r.request.data == b"the body"
    assert [h.status_code for h in r.history] == [code]


def test_303_after_json_post_drops_the_body(http_server):
    async def body(s):
        return await s.post(http_server.url("/redirect/303?to=/echo%3Fj%3D1"), json={"a": 1})

    r = with_session(acurl, body)
    assert r.json()["method"] == "GET"
    assert r.json()["body"] == ""
    assert r.history[0].request.data == b'{"a": 1}'


def test_put_redirected_by_302_becomes_get(http_server):
    async def body(s):
        return await s.put(http_server.url("/redirect/302?to=/echo%3Fput%3D1"), data="x")

    assert with_session(acurl, body).json()["method"] == "GET"


def test_chain_within_the_default_limit(http_server):
    async def body(s):
        return await s.get(http_server.url("/chain/5"))

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.json() == {"chain": "done", "method": "GET"}
    assert r.url == http_server.url("/chain/0")
    assert [h.url for h in r.history] == [http_server.url(f"/chain/{n}") for n in (5, 4, 3, 2, 1)]
    assert [h.status_code for h in r.history] == [302] * 5
    assert [h.redirect_url for h in r.history] == [
        http_server.url(f"/chain/{n}") for n in (4, 3, 2, 1, 0)
    ]
    assert r.history[0].history == []
    assert [h.url for h in r.history[-1].history] == [
        http_server.url(f"/chain/{n}") for n in (5, 4, 3, 2)
    ]


def test_one_redirect_too_many_raises(http_server):
    before = len(http_server.requests_to("/chain/"))

    async def body(s):
        return await s.get(http_server.url("/chain/6"))

    with pytest.raises(acurl.RequestError, match="^Max Redirects$"):
        with_session(acurl, body)
    assert len(http_server.requests_to("/chain/")) - before == 6  # the first request + 5 hops


def test_redirect_loop_stops_at_max_redirects(http_server):
    before = len(http_server.requests_to("/loop"))

    async def body(s):
        return await s.get(http_server.url("/loop"), max_redirects=2)

    with pytest.raises(acurl.RequestError, match="Max Redirects"):
        with_session(acurl, body)
    assert len(http_server.requests_to("/loop")) - before == 3


def test_max_redirects_zero_refuses_any_redirect(http_server):
    async def body(s):
        ok = await s.get(http_server.url("/json"), max_redirects=0)
        try:
            await s.get(http_server.url("/redirect/302?to=/json"), max_redirects=0)
        except acurl.RequestError as exc:
            return ok, exc
        return ok, None

    ok, exc = with_session(acurl, body)
    assert ok.status_code == 200
    assert isinstance(exc, acurl.RequestError) and str(exc) == "Max Redirects"


def test_larger_max_redirects_follows_longer_chains(http_server):
    async def body(s):
        return await s.get(http_server.url("/chain/8"), max_redirects=8)

    r = with_session(acurl, body)
    assert r.status_code == 200 and len(r.history) == 8


def test_allow_redirects_false_returns_the_redirect(http_server):
    before = len(http_server.requests_to("/echo?never"))

    async def body(s):
        return await s.get(http_server.url("/redirect/302?to=/echo%3Fnever"), allow_redirects=False)

    r = with_session(acurl, body)
    assert r.status_code == 302
    assert r.body == b"redirecting\n"
    assert r.headers["Location"] == "/echo?never"
    assert r.redirect_url == http_server.url("/echo?never")
    assert r.history == []
    assert len(http_server.requests_to("/echo?never")) == before


def test_absolute_location(http_server):
    target = http_server.url("/echo?absolute=1")

    async def body(s):
        return await s.get(http_server.url(f"/redirect/301?to={target}"))

    r = with_session(acurl, body)
    assert r.url == target
    assert r.history[0].redirect_url == target


def test_auth_is_sent_to_the_redirect_target(http_server):
    async def body(s):
        return await s.get(http_server.url("/redirect/302?to=/basic-auth/u/pw"), auth=("u", "pw"))

    r = with_session(acurl, body)
    assert r.status_code == 200 and r.json()["user"] == "u"


def test_response_callback_sees_every_hop(http_server):
    seen = []

    async def body(s):
        s.set_response_callback(lambda resp: seen.append((resp.status_code, resp.url)))
        return await s.get(http_server.url("/chain/2"))

    r = with_session(acurl, body)
    assert seen == [
        (302, http_server.url("/chain/2")),
        (302, http_server.url("/chain/1")),
        (200, http_server.url("/chain/0")),
    ]
    assert r.url == seen[-1][1]
