"""The other span processors (OTLP over gRPC, Zipkin JSON) against loopback receivers, and
`AcurlSessionWrapper` (whose traced methods mite 2.11 failed to install) inside a traced journey."""

import pytest
from otelsupport import TRACED, GrpcReceiver, ZipkinReceiver, otel_env, run_python, traceparent


@pytest.fixture
def grpc_receiver():
    server = GrpcReceiver()
    yield server
    server.close()


@pytest.fixture
def zipkin():
    server = ZipkinReceiver()
    yield server
    server.close()


def test_otlp_over_grpc(tmp_path, grpc_receiver, target):
    env = otel_env(
        grpc_receiver,
        TARGET=target.url,
        MITE_CONF_OTEL_OTLP_PROTOCOL="grpc",
        MITE_CONF_OTEL_OTLP_HEADERS="x-tenant=load",
    )
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [journey] = grpc_receiver.tree()
    assert journey.name == "journey.journey"
    assert len(grpc_receiver.spans) == 5
    assert all(headers["x-tenant"] == "load" for _, headers in grpc_receiver.posts)
    [get] = [s for s in grpc_receiver.spans if s.name == "HTTP GET"]
    [a_headers] = target.headers_for("/a")
    assert traceparent(a_headers) == (journey.trace_id, get.span_id, True)


def test_zipkin_json(tmp_path, zipkin, target):
    env = otel_env(
        None,
        TARGET=target.url,
        MITE_CONF_OTEL_SPAN_PROCESSOR="zipkin",
        MITE_CONF_OTEL_OTLP_ENDPOINT=zipkin.endpoint,
        MITE_CONF_OTEL_SERVICE_NAME="zipkin-load",
    )
    proc = run_python(tmp_path, TRACED, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_name = {s["name"]: s for s in zipkin.spans}
    assert set(by_name) == {
        "journey.journey", "transaction.outer", "transaction.inner", "HTTP GET", "HTTP POST",
    }  # fmt: skip
    journey, get = by_name["journey.journey"], by_name["HTTP GET"]
    assert "parentId" not in journey
    assert get["parentId"] == by_name["transaction.outer"]["id"]
    assert get["kind"] == "CLIENT" and get["tags"]["http.response.status_code"] == "200"
    assert journey["localEndpoint"]["serviceName"] == "zipkin-load"
    [a_headers] = target.headers_for("/a")
    assert traceparent(a_headers) == (journey["traceId"], get["id"], True)


WRAPPER = """
    import asyncio, os
    import acurl
    from mite.context import Context
    from mite.otel import trace_journey
    from mite.otel.acurl_integration import patch_acurl_session
    from mite_http import AcurlSessionWrapper

    TARGET = os.environ["TARGET"]
    patch_acurl_session()

    @trace_journey("own session")
    async def own_session(ctx):
        session = AcurlSessionWrapper(acurl.CurlWrapper(asyncio.get_running_loop()).session())
        await session.get(TARGET + "/e")

    async def main():
        await own_session(Context(lambda msg: None, {}))
        # Outside a traced journey the wrapper's requests are plain.
        session = AcurlSessionWrapper(acurl.CurlWrapper(asyncio.get_running_loop()).session())
        await session.get(TARGET + "/f")

    asyncio.run(main())
"""


def test_acurl_session_wrapper_requests_are_traced_in_traced_journeys(tmp_path, receiver, target):
    proc = run_python(tmp_path, WRAPPER, otel_env(receiver, TARGET=target.url))
    assert proc.returncode == 0, proc.stderr[-3000:]
    [journey] = receiver.tree()
    [request] = journey.children
    assert request.name == "HTTP GET" and request.attributes["http.target"] == "/e"
    [e_headers] = target.headers_for("/e")
    assert traceparent(e_headers) == (journey.trace_id, request.span_id, True)
    [f_headers] = target.headers_for("/f")
    assert "traceparent" not in f_headers
