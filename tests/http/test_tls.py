"""HTTPS against a self-signed certificate (verification is off, as in acurl), TLS timings and
reuse, client certificates, and HTTP/2 (nginx, negotiated by ALPN)."""

from httpsupport import (
    assert_timings_ordered,
    beyond_reference,
    metrics,
    reference_bug,
    require_engine,
    run_journey,
    with_session,
)

acurl = require_engine()
from mite_http import mite_http  # noqa: E402  (after the engine gate)


def test_self_signed_https_works_without_configuration(https_server):
    async def body(s):
        return await s.post(https_server.url("/echo?tls=1"), json={"secure": True})

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.url == https_server.url("/echo?tls=1")
    assert r.url.startswith("https://127.0.0.1:")
    echo = r.json()
    assert echo["method"] == "POST" and echo["body"] == '{"secure": true}'
    assert echo["client_cert"] is None
    assert r.header.startswith("HTTP/1.1 200 OK\r\n")


def test_tls_timings_on_fresh_and_reused_connections(https_server):
    async def body(s):
        return await s.get(https_server.url("/json")), await s.get(https_server.url("/json"))

    fresh, reused = with_session(acurl, body)
    assert fresh.appconnect_time > 0.0
    assert_timings_ordered(fresh, fresh_connection=True)
    assert_timings_ordered(reused, fresh_connection=False)


def test_tls_connection_is_kept_alive(https_server):
    before = https_server.connections

    async def body(s):
        return [await s.get(https_server.url(f"/echo?n={i}")) for i in range(10)]

    responses = with_session(acurl, body)
    assert [r.json()["query"]["n"] for r in responses] == [str(i) for i in range(10)]
    assert 1 <= https_server.connections - before <= 2


def test_http_metrics_tls_time(https_server):
    @mite_http
    async def journey(ctx):
        await ctx.http.get(https_server.url("/json"))
        await ctx.http.get(https_server.url("/json"))

    _, sent, _ = run_journey(journey)
    first, second = metrics(sent)
    assert 0.0 < first["connect_time"] <= first["tls_time"] <= first["transfer_start_time"]
    assert second["tls_time"] == 0.0
    assert first["effective_url"].startswith("https://")


def test_gzip_over_tls(https_server):
    async def body(s):
        return await s.get(https_server.url("/gzip"))

    assert with_session(acurl, body).json()["encoding"] == "gzip"


@reference_bug(
    "cert= must be a tuple of str to pass validation, then is handed to libcurl as "
    "char* and raises TypeError('expected bytes, str found')"
)
def test_client_certificate(https_server, tls_files):
    certfile, keyfile = tls_files

    async def body(s):
        return await s.get(https_server.url("/echo?client=1"), cert=(keyfile, certfile))

    r = with_session(acurl, body)
    assert r.json()["client_cert"] == "127.0.0.1"
    assert r.request.cert == (keyfile, certfile)


# -- HTTP/2 ------------------------------------------------------------------------------------------


def proto(response):
    """nginx's /proto answer: (protocol, method, connection serial, requests on it)."""
    protocol, method, serial, count = response.body.decode().split()
    return protocol, method, int(serial), int(count)


def test_https_negotiates_http2_when_offered(h2_server):
    # libcurl's default for https (CURL_HTTP_VERSION_2TLS) offers h2 by ALPN, and acurl keeps it.
    async def body(s):
        return await s.get(h2_server.url("/proto"))

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert proto(r)[:2] == ("HTTP/2.0", "GET")
    assert r.header.startswith("HTTP/2 200")
    assert r.headers["Content-Type"] == "text/plain"
    assert ("content-type", "text/plain") in r.headers_tuple  # HTTP/2 names come lower-case


def test_http2_requests_share_one_connection(h2_server):
    async def body(s):
        return [await s.post(h2_server.url("/proto"), data=f"n={i}") for i in range(5)]

    answers = [proto(r) for r in with_session(acurl, body)]
    assert {a[0] for a in answers} == {"HTTP/2.0"}
    assert {a[1] for a in answers} == {"POST"}
    assert len({a[2] for a in answers}) == 1  # one connection
    assert [a[3] for a in answers] == list(range(answers[0][3], answers[0][3] + 5))


@beyond_reference("per-request http_version=")
def test_http_version_1_1_on_an_h2_server(h2_server):
    async def body(s):
        return await s.get(h2_server.url("/proto"), http_version="1.1")

    r = with_session(acurl, body)
    assert proto(r)[0] == "HTTP/1.1"
    assert r.header.startswith("HTTP/1.1 200")


@beyond_reference("per-request http_version=")
def test_http_version_2(h2_server):
    async def body(s):
        return [await s.get(h2_server.url("/proto"), http_version="2") for _ in range(3)]

    answers = [proto(r) for r in with_session(acurl, body)]
    assert {a[0] for a in answers} == {"HTTP/2.0"}
    assert len({a[2] for a in answers}) == 1


@beyond_reference("per-request http_version=")
def test_http_version_1_0(h2_server):
    async def body(s):
        return await s.get(h2_server.url("/proto"), http_version="1.0")

    r = with_session(acurl, body)
    assert proto(r)[0] == "HTTP/1.0"
    assert r.header.startswith("HTTP/1.1 200")  # nginx answers a 1.0 request as HTTP/1.1


@beyond_reference("per-request http_version=")
def test_http_version_2_prior_knowledge_on_cleartext(h2_server):
    async def body(s):
        return [
            await s.get(h2_server.h2c_url("/proto"), http_version="2-prior-knowledge")
            for _ in range(2)
        ]

    answers = [proto(r) for r in with_session(acurl, body)]
    assert {a[0] for a in answers} == {"HTTP/2.0"}
    assert len({a[2] for a in answers}) == 1  # one connection


def test_http2_through_mite_http(h2_server):
    @mite_http
    async def journey(ctx):
        return await ctx.http.get(h2_server.url("/proto"))

    _, sent, r = run_journey(journey)
    [m] = metrics(sent)
    assert proto(r)[0] == "HTTP/2.0"
    assert m["response_code"] == 200 and m["tls_time"] > 0.0
    assert m["download_size"] == float(len(r.body))
