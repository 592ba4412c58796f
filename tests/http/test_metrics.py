"""The `http_metrics` message mite_http sends for every response: its fields in order, their types
and values, the response callback's additional metrics, and one message per redirect hop."""

import time

import pytest
from httpsupport import (
    HTTP_METRICS_KEYS,
    ID_DATA,
    TAIL_KEYS,
    metrics,
    require_engine,
    run_journey,
)

acurl = require_engine()
from mite_http import mite_http  # noqa: E402  (after the engine gate)

# What mite 2.11.0 sent, captured once: key order, then the type of each value.
EXPECTED_KEYS = (
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
    "type",
    "time",
    "test",
    "runner_id",
    "journey",
    "context_id",
    "scenario_id",
    "scenario_data_id",
    "transaction",
    "transaction_id",
)
EXPECTED_TYPES = {
    "start_time": int,
    "effective_url": str,
    "response_code": int,
    "dns_time": float,
    "connect_time": float,
    "tls_time": float,
    "transfer_start_time": float,
    "first_byte_time": float,
    "total_time": float,
    "primary_ip": str,
    "method": bytes,
    "download_size": float,
    "type": str,
    "time": float,
    "transaction": str,
    "transaction_id": int,
}


def test_the_helper_constants_match_the_captured_order():
    assert EXPECTED_KEYS == HTTP_METRICS_KEYS + TAIL_KEYS


def test_http_metrics_fields_in_order_with_types_and_values(http_server):
    url = http_server.url("/json")

    @mite_http
    async def journey(ctx):
        async with ctx.transaction("fetch"):
            return await ctx.http.get(url)

    before = time.time()
    _, sent, r = run_journey(journey)
    after = time.time()
    [m] = metrics(sent)
    assert tuple(m) == EXPECTED_KEYS
    for key, kind in EXPECTED_TYPES.items():
        assert type(m[key]) is kind, (key, m[key])
    assert m["type"] == "http_metrics"
    assert m["effective_url"] == url == r.url
    assert m["response_code"] == 200
    assert m["method"] == b"GET"
    assert m["primary_ip"] == "127.0.0.1"
    assert m["download_size"] == float(len(r.body))
    assert int(before) - 1 <= m["start_time"] <= after + 1
    assert m["start_time"] <= m["time"]
    assert before <= m["time"] <= after
    assert m["transaction"] == "fetch" and m["transaction_id"] == 1
    assert {k: m[k] for k in ID_DATA} == ID_DATA
    # the message carries the response's own timings
    assert (m["dns_time"], m["connect_time"], m["tls_time"]) == (
        r.namelookup_time,
        r.connect_time,
        r.appconnect_time,
    )
    assert (m["transfer_start_time"], m["first_byte_time"], m["total_time"]) == (
        r.pretransfer_time,
        r.starttransfer_time,
        r.total_time,
    )
    assert m["tls_time"] == 0.0
    assert (
        0.0
        < m["connect_time"]
        <= m["transfer_start_time"]
        <= m["first_byte_time"]
        <= m["total_time"]
    )


def test_http_metrics_outside_a_transaction(http_server):
    @mite_http
    async def journey(ctx):
        await ctx.http.post(http_server.url("/echo"), data="x")

    _, sent, _ = run_journey(journey)
    [m] = metrics(sent)
    assert m["transaction"] is None and m["transaction_id"] is None
    assert m["method"] == b"POST"


def test_method_survives_msgpack_as_bytes(http_server):
    from mite.utils import pack_msg, unpack_msg

    @mite_http
    async def journey(ctx):
        await ctx.http.delete(http_server.url("/echo"))

    _, sent, _ = run_journey(journey)
    [m] = metrics(sent)
    decoded = unpack_msg(pack_msg(m))
    assert decoded["method"] == b"DELETE"
    assert list(decoded) == list(m)


def test_response_callback_adds_fields_before_the_tail(http_server):
    calls = []

    @mite_http
    async def journey(ctx):
        def callback(response, additional_metrics):
            calls.append((response.status_code, dict(additional_metrics)))
            additional_metrics["endpoint"] = response.url.rsplit("/", 1)[-1]
            additional_metrics["body_len"] = len(response.body)

        ctx.http.set_response_callback(callback)
        async with ctx.transaction("with callback"):
            return await ctx.http.get(http_server.url("/json"))

    _, sent, r = run_journey(journey)
    [m] = metrics(sent)
    assert tuple(m) == HTTP_METRICS_KEYS + ("endpoint", "body_len") + TAIL_KEYS
    assert m["endpoint"] == "json"
    assert m["body_len"] == len(r.body)
    assert calls == [(200, {})]


def test_additional_metrics_persist_for_the_rest_of_the_journey(http_server):
    # mite_http keeps one additional_metrics dict per session: a field added once stays.
    @mite_http
    async def journey(ctx):
        count = 0

        def callback(response, additional_metrics):
            nonlocal count
            count += 1
            if count == 1:
                additional_metrics["first_url"] = response.url
            additional_metrics["n"] = count

        ctx.http.set_response_callback(callback)
        await ctx.http.get(http_server.url("/json"))
        await ctx.http.get(http_server.url("/echo"))

    _, sent, _ = run_journey(journey)
    first, second = metrics(sent)
    assert (first["first_url"], first["n"]) == (http_server.url("/json"), 1)
    assert (second["first_url"], second["n"]) == (http_server.url("/json"), 2)
    assert tuple(second) == HTTP_METRICS_KEYS + ("first_url", "n") + TAIL_KEYS


def test_a_new_journey_starts_without_additional_metrics(http_server):
    @mite_http
    async def tagged(ctx):
        ctx.http.set_response_callback(lambda r, extra: extra.update(tag="t"))
        await ctx.http.get(http_server.url("/json"))

    @mite_http
    async def plain(ctx):
        await ctx.http.get(http_server.url("/json"))

    async def both(ctx):
        await tagged(ctx)
        await plain(ctx)

    _, sent, _ = run_journey(both)
    first, second = metrics(sent)
    assert first["tag"] == "t"
    assert tuple(second) == EXPECTED_KEYS


def test_one_message_per_redirect_hop(http_server):
    @mite_http
    async def journey(ctx):
        async with ctx.transaction("hops"):
            return await ctx.http.post(http_server.url("/redirect/303?to=/chain/2"), data="payload")

    _, sent, r = run_journey(journey)
    ms = metrics(sent)
    assert [m["effective_url"] for m in ms] == [
        http_server.url("/redirect/303?to=/chain/2"),
        http_server.url("/chain/2"),
        http_server.url("/chain/1"),
        http_server.url("/chain/0"),
    ]
    assert [m["response_code"] for m in ms] == [303, 302, 302, 200]
    assert [m["method"] for m in ms] == [b"POST", b"GET", b"GET", b"GET"]
    assert all(m["transaction"] == "hops" for m in ms)
    assert ms[-1]["download_size"] == float(len(r.body))
    assert all(tuple(m) == EXPECTED_KEYS for m in ms)


def test_too_many_redirects_still_reports_every_hop(http_server):
    @mite_http
    async def journey(ctx):
        with pytest.raises(acurl.RequestError):
            await ctx.http.get(http_server.url("/loop"), max_redirects=3)

    _, sent, _ = run_journey(journey)
    ms = metrics(sent)
    assert len(ms) == 4
    assert {m["response_code"] for m in ms} == {302}


def test_status_codes_and_sizes_are_reported(http_server):
    @mite_http
    async def journey(ctx):
        await ctx.http.get(http_server.url("/status/404"))
        await ctx.http.get(http_server.url("/status/500"))
        await ctx.http.get(http_server.url("/big?size=100000"))

    _, sent, _ = run_journey(journey)
    ms = metrics(sent)
    assert [m["response_code"] for m in ms] == [404, 500, 200]
    assert [m["download_size"] for m in ms] == [
        float(len(b"status 404\n")),
        float(len(b"status 500\n")),
        100000.0,
    ]


def test_reused_connection_reports_zero_connect_time(http_server):
    @mite_http
    async def journey(ctx):
        for _ in range(3):
            await ctx.http.get(http_server.url("/json"))

    _, sent, _ = run_journey(journey)
    first, *rest = metrics(sent)
    assert first["connect_time"] > 0.0
    for m in rest:
        assert m["connect_time"] == 0.0 and m["tls_time"] == 0.0
        assert m["transfer_start_time"] <= m["first_byte_time"] <= m["total_time"]


def test_concurrent_requests_in_one_journey_report_their_own_transactions(http_server):
    import asyncio

    @mite_http
    async def journey(ctx):
        async def fetch(name, path):
            async with ctx.transaction(name):
                await ctx.http.get(http_server.url(path))

        await asyncio.gather(
            fetch("slow one", "/slow?ms=100&n=1"),
            fetch("fast one", "/json?n=2"),
            fetch("slow two", "/slow?ms=50&n=3"),
        )

    _, sent, _ = run_journey(journey)
    by_url = {m["effective_url"]: m["transaction"] for m in metrics(sent)}
    assert by_url == {
        http_server.url("/slow?ms=100&n=1"): "slow one",
        http_server.url("/json?n=2"): "fast one",
        http_server.url("/slow?ms=50&n=3"): "slow two",
    }
