"""Responses: status, body, text and encoding, JSON, headers (three views), compressed and chunked
bodies, a 10 MiB body, the request object, timings and sizes."""

import asyncio
import json
import shlex
import time

import pytest
import servers
from httpsupport import assert_timings_ordered, reference_bug, require_engine, run, with_session

acurl = require_engine()


def get(url, **kwargs):
    async def body(s):
        return await s.get(url, **kwargs)

    return with_session(acurl, body)


# -- status, body, text, json ------------------------------------------------------------------------


def test_json_response(http_server):
    r = get(http_server.url("/json"))
    assert r.status_code == 200
    assert isinstance(r.status_code, int)
    assert r.url == http_server.url("/json")
    assert (
        r.body
        == json.dumps({"hello": "world", "numbers": [1, 2, 3], "nested": {"ok": True}}).encode()
    )
    assert isinstance(r.body, bytes)
    assert r.json() == {"hello": "world", "numbers": [1, 2, 3], "nested": {"ok": True}}
    assert r.text == r.body.decode("latin-1")
    assert r.history == []


@pytest.mark.parametrize("code", [404, 500, 503])
def test_error_statuses_are_responses_not_exceptions(http_server, code):
    r = get(http_server.url(f"/status/{code}"))
    assert r.status_code == code
    assert r.body == f"status {code}\n".encode()


def test_json_of_a_non_json_body_raises_value_error(http_server):
    r = get(http_server.url("/status/404"))
    with pytest.raises(ValueError):
        r.json()


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "cp1252"])
def test_text_is_decoded_with_the_declared_charset(http_server, charset):
    r = get(http_server.url(f"/charset/{charset}"))
    assert r.encoding == charset
    assert r.text == "caf\u00e9 \u00fcber"
    assert r.body == "caf\u00e9 \u00fcber".encode(charset)


def test_encoding_defaults_to_latin1(http_server):
    raw = get(http_server.url("/raw"))  # no Content-Type at all
    assert "content-type" not in raw.headers
    assert raw.encoding == "latin1"
    assert raw.text == "caf\u00e9"
    typed = get(http_server.url("/json"))  # a Content-Type without charset
    assert typed.encoding == "latin1"


# -- headers ------------------------------------------------------------------------------------------


def test_headers_are_case_insensitive(http_server):
    r = get(http_server.url("/json"))
    h = r.headers
    assert isinstance(h, dict)
    assert h["Content-Type"] == h["content-type"] == h["CONTENT-TYPE"] == "application/json"
    assert "content-LENGTH" in h
    assert h.get("Content-Length") == str(len(r.body))
    assert h.get("X-Absent") is None
    assert "X-Absent" not in h
    with pytest.raises(KeyError):
        h["X-Absent"]


def test_header_names_iterate_in_lower_case(http_server):
    r = get(http_server.url("/multi-header"))
    assert list(r.headers) == [
        "server",
        "date",
        "content-type",
        "x-multi",
        "x-single",
        "content-length",
    ]


def test_repeated_headers_are_joined_with_comma_space(http_server):
    r = get(http_server.url("/multi-header"))
    assert r.headers["X-Multi"] == "a, b"
    assert r.headers["x-single"] == "one"


def test_headers_tuple_keeps_every_line_in_order_and_case(http_server):
    r = get(http_server.url("/multi-header"))
    t = r.headers_tuple
    assert isinstance(t, tuple)
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in t)
    names = [k for k, _ in t]
    assert names == [
        "Server",
        "Date",
        "Content-Type",
        "X-Multi",
        "X-Single",
        "X-Multi",
        "Content-Length",
    ]
    assert [v for k, v in t if k == "X-Multi"] == ["a", "b"]
    assert ("Content-Length", "6") in t


def test_raw_header_is_the_status_line_and_header_block(http_server):
    r = get(http_server.url("/multi-header"))
    raw = r.header
    assert isinstance(raw, str)
    assert raw.startswith("HTTP/1.1 200 OK\r\n")
    assert raw.endswith("\r\n\r\n")
    lines = raw.split("\r\n")[1:-2]
    assert lines == [f"{k}: {v}" for k, v in r.headers_tuple]


def test_interim_100_continue_is_not_a_header(http_server):
    payload = b"x" * (2 * 1024 * 1024)  # big enough for libcurl to send Expect: 100-continue

    async def body(s):
        return await s.post(http_server.url("/echo"), data=payload)

    r = with_session(acurl, body)
    assert r.status_code == 200
    assert r.json()["body_length"] == len(payload)
    assert r.upload_size == float(len(payload))
    names = [k.lower() for k, _ in r.headers_tuple]
    assert "content-type" in names and all(not n.startswith("http/") for n in names)
    assert r.headers["Content-Type"] == "application/json"


# -- bodies on the wire -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_compressed_bodies_are_decoded(http_server, encoding):
    r = get(http_server.url(f"/{encoding}"))
    assert r.status_code == 200
    payload = r.json()
    assert payload["encoding"] == encoding
    assert encoding in payload["accept_encoding"]
    assert r.headers["Content-Encoding"] == encoding
    # download_size counts the bytes received (compressed), not the decoded body
    assert r.download_size == float(r.headers["Content-Length"])
    assert r.download_size != float(len(r.body))


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_that_does_not_decode_raises_code_61(http_server, encoding):
    with pytest.raises(acurl.AcurlError) as err:
        get(http_server.url(f"/undecodable/{encoding}"))
    assert str(err.value).startswith("curl failed with code 61 "), str(err.value)


def test_a_journeys_own_accept_encoding_is_sent_unchanged(http_server):
    r = get(http_server.url("/gzip"), headers={"Accept-Encoding": "identity"})
    assert r.json()["accept_encoding"] == "identity"
    r = get(http_server.url("/echo"), headers={"Accept-Encoding": "gzip"})
    sent = [v for k, v in r.json()["headers"] if k.lower() == "accept-encoding"]
    assert sent == ["gzip"]


def test_chunked_body(http_server):
    r = get(http_server.url("/chunked?n=40"))
    assert r.status_code == 200
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert "content-length" not in r.headers
    assert r.body == b"".join(f"chunk {i}\n".encode() for i in range(40))
    assert r.download_size == float(len(r.body))


def test_ten_megabyte_body(http_server):
    r = get(http_server.url("/big"))
    assert r.status_code == 200
    assert len(r.body) == servers.BIG_SIZE
    assert r.body == servers.big_body(servers.BIG_SIZE)
    assert r.download_size == float(servers.BIG_SIZE)


@reference_bug(
    "each received block is copied with strndup, so a NUL byte cuts the copy short "
    "(and the rest is read from beyond the allocation)",
    run=False,
)
def test_binary_body_with_nul_bytes(http_server):
    r = get(http_server.url("/binary"))
    assert r.body == servers.BINARY_BODY


# -- the request object ------------------------------------------------------------------------------


def test_request_records_what_was_asked(http_server):
    url = http_server.url("/echo?x=1")

    async def body(s):
        return await s.post(url, json={"a": 1}, headers={"X-Trace": "t1"}, auth=("u", "p"))

    req = with_session(acurl, body).request
    assert req.method == b"POST"
    assert req.url == url
    assert req.headers == {"X-Trace": "t1", "Content-Type": "application/json"}
    assert req.data == b'{"a": 1}'
    assert req.auth == ("u", "p")
    assert req.cert is None
    assert req.cookies == {}


def test_request_to_curl(http_server):
    url = http_server.url("/echo?x=1")

    async def body(s):
        plain = await s.get(http_server.url("/echo"))
        posted = await s.post(url, json={"a": 1}, headers={"X-Trace": "t 1"}, auth=("u", "p w"))
        cookied = await s.get(http_server.url("/echo"), cookies={"k": "v"})
        return plain, posted, cookied

    plain, posted, cookied = with_session(acurl, body)
    assert plain.request.to_curl() == f"curl -X GET {http_server.url('/echo')}"
    assert posted.request.to_curl() == (
        "curl -X POST -d '{\"a\": 1}' -H 'X-Trace: t 1' -H 'Content-Type: application/json' "
        f"--user 'u:p w' {shlex.quote(url)}"
    )
    assert cookied.request.to_curl() == f"curl -X GET --cookie k=v {http_server.url('/echo')}"


# -- timings and sizes --------------------------------------------------------------------------------


def test_timings_are_ordered_on_fresh_and_reused_connections(http_server):
    async def body(s):
        return await s.get(http_server.url("/echo")), await s.get(http_server.url("/echo"))

    fresh, reused = with_session(acurl, body)
    assert_timings_ordered(fresh, fresh_connection=True)
    assert_timings_ordered(reused, fresh_connection=False)
    assert fresh.appconnect_time == 0.0  # no TLS


def test_sizes_address_and_start_time(http_server):
    before = int(time.time())

    async def body(s):
        return await s.post(http_server.url("/echo"), data=b"12345")

    r = with_session(acurl, body)
    after = int(time.time())
    assert r.download_size == float(len(r.body)) and isinstance(r.download_size, float)
    assert r.upload_size == 5.0 and isinstance(r.upload_size, float)
    assert r.primary_ip == "127.0.0.1"
    assert type(r.start_time) is int
    assert before - 1 <= r.start_time <= after + 1


@reference_bug(
    "reading redirect_url of a response that is not a redirect dereferences NULL (segfault)",
    run=False,
)
def test_redirect_url_is_none_when_not_redirected(http_server):
    assert get(http_server.url("/json")).redirect_url is None


def test_response_outlives_its_event_loop(http_server):
    async def main():
        s = acurl.CurlWrapper(asyncio.get_running_loop()).session()
        return await s.get(http_server.url("/multi-header"))

    r = run(main())  # the loop is closed now; everything was read already
    assert r.body == b"multi\n"
    assert r.headers["x-multi"] == "a, b"
    assert r.status_code == 200 and r.total_time > 0
