"""mite.otel used directly (a script driving journeys on a real Context): the spans exported over
OTLP/HTTP, their tree, attributes and status, and the `traceparent` headers the target saw."""

import json

from otelsupport import TRACED, otel_env, run_python, traceparent


def _only_root(receiver, name):
    roots = receiver.tree()
    assert [r.name for r in roots] == [name], [(s.name, s.parent_id) for s in receiver.spans]
    return roots[0]


def test_a_traced_journey_is_a_tree_of_journey_transaction_and_request_spans(
    tmp_path, receiver, target
):
    env = otel_env(receiver, TARGET=target.url, MITE_CONF_OTEL_SERVICE_NAME="shop-load")
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]

    journey = _only_root(receiver, "journey.journey")
    assert journey.kind == "internal" and journey.status == "unset"
    assert journey.service == "shop-load"
    assert journey.attributes == {
        "mite.journey.name": "journey",
        "mite.journey.type": "http",
        "mite.context.type": "Context",
    }
    [outer] = journey.children
    assert outer.name == "transaction.outer" and outer.kind == "internal"
    assert outer.attributes["mite.transaction.name"] == "outer"
    assert isinstance(outer.attributes["mite.transaction.id"], int)
    get, inner = sorted(outer.children, key=lambda s: s.name)
    assert (get.name, inner.name) == ("HTTP GET", "transaction.inner")
    [post] = inner.children
    assert post.name == "HTTP POST" and post.children == [] and get.children == []
    assert {s.trace_id for s in (journey, outer, inner, get, post)} == {journey.trace_id}

    assert get.kind == "client" and get.status == "unset"
    assert get.attributes["http.method"] == "GET"
    assert get.attributes["http.url"] == target.url + "/a"
    assert get.attributes["http.host"] == "127.0.0.1"
    assert get.attributes["http.scheme"] == "http"
    assert get.attributes["http.target"] == "/a"
    assert get.attributes["http.response.status_code"] == 200
    assert get.attributes["http.response.header.content-length"] == "3"
    assert get.attributes["http.response.body.size"] == 3
    for timing in ("total", "first_byte", "dns", "connect"):
        assert get.attributes[f"http.response.time.{timing}"] >= 0
    assert post.attributes["http.method"] == "POST" and post.attributes["http.target"] == "/b"

    # Each request carried its own span's context, the caller's headers kept (theirs
    # replaced only where they named a trace-context header).
    [a_headers] = target.headers_for("/a")
    assert traceparent(a_headers) == (journey.trace_id, get.span_id, True)
    assert a_headers["x-mine"] == "1"
    [b_headers] = target.headers_for("/b")
    assert traceparent(b_headers) == (journey.trace_id, post.span_id, True)
    [plain_headers] = target.headers_for("/plain")
    assert "traceparent" not in plain_headers

    # mite's own messages are unchanged by tracing: both journeys' transactions and requests.
    sent = json.loads(proc.stdout.splitlines()[-1])
    assert sent.count(["http_metrics", "outer"]) == 1
    assert sent.count(["http_metrics", "outer :: inner"]) == 1
    assert sent.count(["http_metrics", "plain"]) == 1
    assert [t for t, _ in sent].count("txn") == 3


FAILING = """
    import asyncio, os
    from mite.context import Context
    from mite.otel import mite_http_traced

    TARGET = os.environ["TARGET"]

    @mite_http_traced
    async def failing(ctx):
        async with ctx.transaction("server error"):
            resp = await ctx.http.get(TARGET + "/fail")
            assert resp.status_code == 500
        async with ctx.transaction("refused"):
            try:
                await ctx.http.get(os.environ["CLOSED"])
            except Exception as e:
                print("request failed:", type(e).__name__)
        async with ctx.transaction("broken"):
            raise ValueError("journey broke")

    async def main():
        try:
            await failing(Context(lambda msg: None, {}))
        except ValueError as e:
            print("journey raised:", e)

    asyncio.run(main())
"""


def test_failures_mark_their_spans_as_errors_once(tmp_path, receiver, target):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/nothing"
    env = otel_env(receiver, TARGET=target.url, CLOSED=closed)
    proc = run_python(tmp_path, FAILING, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "journey raised: journey broke" in proc.stdout

    journey = _only_root(receiver, "journey.failing")
    assert journey.status == "error"
    assert [name for name, _ in journey.events] == ["exception"]
    assert journey.events[0][1]["exception.type"] == "ValueError"
    by_name = {c.name: c for c in journey.children}
    assert set(by_name) == {"transaction.server error", "transaction.refused", "transaction.broken"}

    [server_error] = by_name["transaction.server error"].children
    assert server_error.status == "error" and server_error.events == []
    assert server_error.attributes["http.response.status_code"] == 500
    assert by_name["transaction.server error"].status == "unset"

    [refused] = by_name["transaction.refused"].children
    assert refused.status == "error"
    assert [name for name, _ in refused.events] == ["exception"]
    assert "http.response.status_code" not in refused.attributes

    broken = by_name["transaction.broken"]
    assert broken.status == "error" and broken.children == []
    assert [(n, a["exception.message"]) for n, a in broken.events] == [
        ("exception", "journey broke")
    ]


MANUAL = """
    import asyncio, os
    from mite.context import Context
    from mite.otel import inject_headers, trace_journey, trace_transaction
    from mite_http import mite_http

    TARGET = os.environ["TARGET"]

    @trace_journey("custom")
    async def custom(ctx):
        async with trace_transaction("db query", table="users", rows=150) as span:
            span.set_attribute("query.rows", 150)
            print("injected", inject_headers({})["traceparent"])

    @mite_http
    @trace_journey("inside http")
    async def inside_http(ctx):
        async with ctx.transaction("fetch"):
            await ctx.http.get(TARGET + "/c")

    async def main():
        await custom(Context(lambda msg: None, {}))
        await inside_http(Context(lambda msg: None, {}))

    asyncio.run(main())
"""


def test_trace_journey_trace_transaction_and_inject_headers(tmp_path, receiver, target):
    proc = run_python(tmp_path, MANUAL, otel_env(receiver, TARGET=target.url))
    assert proc.returncode == 0, proc.stderr[-3000:]
    roots = {r.name: r for r in receiver.tree()}
    assert set(roots) == {"journey.custom", "journey.inside http"}

    custom = roots["journey.custom"]
    assert custom.attributes == {"mite.journey.name": "custom"}
    [db] = custom.children
    assert db.name == "transaction.db query"
    assert db.attributes == {
        "mite.transaction.name": "db query",
        "mite.transaction.table": "users",
        "mite.transaction.rows": "150",
        "query.rows": 150,
    }
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("injected ")]
    assert traceparent({"traceparent": line.split()[1]}) == (custom.trace_id, db.span_id, True)

    # Under @mite_http, @trace_journey traces the journey's transactions and requests too.
    [fetch] = roots["journey.inside http"].children
    [request] = fetch.children
    assert (fetch.name, request.name) == ("transaction.fetch", "HTTP GET")
    [c_headers] = target.headers_for("/c")
    assert traceparent(c_headers)[:2] == (request.trace_id, request.span_id)


DISABLED = """
    import asyncio, os
    from mite.context import Context
    from mite.otel import (
        TracingDisabledError, get_tracer, mite_http_traced, trace_journey, trace_transaction,
    )

    TARGET = os.environ["TARGET"]

    async def plain(ctx):
        async with trace_transaction("t") as span:
            assert span is None
        await ctx.http.get(TARGET + "/d")

    traced = mite_http_traced(plain)
    assert trace_journey("x")(plain) is plain
    try:
        get_tracer()
    except TracingDisabledError as e:
        print("get_tracer:", e)
    asyncio.run(traced(Context(lambda msg: None, {})))
"""


def test_with_tracing_off_nothing_is_traced_or_exported(tmp_path, receiver, target):
    env = otel_env(receiver, TARGET=target.url, MITE_CONF_OTEL_ENABLED="false")
    proc = run_python(tmp_path, DISABLED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "get_tracer: OpenTelemetry is disabled: set MITE_CONF_OTEL_ENABLED=true" in proc.stdout
    [d_headers] = target.headers_for("/d")
    assert "traceparent" not in d_headers
    assert receiver.posts == [] and receiver.spans == []


def test_a_sampling_ratio_of_zero_exports_nothing_but_still_propagates(tmp_path, receiver, target):
    env = otel_env(receiver, TARGET=target.url, MITE_CONF_OTEL_SAMPLER_RATIO="0")
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert receiver.spans == []
    [a_headers] = target.headers_for("/a")
    trace_id, span_id, sampled = traceparent(a_headers)
    assert not sampled and int(trace_id, 16) != 0 and int(span_id, 16) != 0


def test_export_headers_and_an_endpoint_without_a_path(tmp_path, receiver, target):
    env = otel_env(
        receiver,
        TARGET=target.url,
        MITE_CONF_OTEL_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
        MITE_CONF_OTEL_OTLP_HEADERS="Authorization=Bearer abc, X-Tenant = load",
    )
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(receiver.spans) == 5
    paths = {path for path, _ in receiver.posts}
    assert paths == {"/v1/traces"}
    for _, headers in receiver.posts:
        assert headers["authorization"] == "Bearer abc" and headers["x-tenant"] == "load"


def test_the_console_processor_prints_each_span(tmp_path, target):
    env = otel_env(None, TARGET=target.url, MITE_CONF_OTEL_SPAN_PROCESSOR="console")
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("journey.journey", "transaction.outer", "transaction.inner", "HTTP GET"):
        assert f'"name": "{name}"' in proc.stdout
