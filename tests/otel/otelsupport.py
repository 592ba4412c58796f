"""Loopback peers for the tracing tests: an OTLP/HTTP receiver that decodes each export with
opentelemetry-proto, and an HTTP target that records the trace headers of each request."""

import gzip
import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import (
    TraceServiceServicer,
    add_TraceServiceServicer_to_server,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as ProtoStatus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MITE = Path(sys.executable).with_name("mite")
RUN_TIMEOUT = 120

KIND = {ProtoSpan.SPAN_KIND_INTERNAL: "internal", ProtoSpan.SPAN_KIND_CLIENT: "client"}
STATUS = {
    ProtoStatus.STATUS_CODE_UNSET: "unset",
    ProtoStatus.STATUS_CODE_OK: "ok",
    ProtoStatus.STATUS_CODE_ERROR: "error",
}

# A traced journey (transaction "outer" with a GET and a transaction "inner" with a POST) and
# an untraced one, on a real Context; prints the (type, transaction) of each message sent.
TRACED = """
    import asyncio, json, os
    from mite.context import Context
    from mite.otel import mite_http_traced
    from mite_http import mite_http

    TARGET = os.environ["TARGET"]
    messages = []

    @mite_http_traced
    async def journey(ctx):
        async with ctx.transaction("outer"):
            mine = {"X-Mine": "1", "TraceParent": "00-bogus"}
            await ctx.http.get(TARGET + "/a", headers=mine)
            assert mine == {"X-Mine": "1", "TraceParent": "00-bogus"}, mine
            async with ctx.transaction("inner"):
                await ctx.http.post(TARGET + "/b", json={"x": 1})

    @mite_http
    async def untraced(ctx):
        async with ctx.transaction("plain"):
            await ctx.http.get(TARGET + "/plain")

    async def main():
        ctx = Context(messages.append, {})
        await journey(ctx)
        assert not hasattr(ctx, "http") and "transaction" not in vars(ctx), vars(ctx)
        await untraced(ctx)

    asyncio.run(main())
    print(json.dumps([[m["type"], m.get("transaction")] for m in messages]))
"""


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@dataclass
class Span:
    """One exported span, decoded: ids as lowercase hex (as in `traceparent`)."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: str
    status: str
    attributes: dict
    events: list
    service: str
    scope: str
    children: list = field(default_factory=list)


class _Server:
    def __init__(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        owner.record(self.path, {k.lower(): v for k, v in self.headers.items()}, request)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


class _Spans:
    """Spans received from OTLP export requests, decoded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []
        self.posts = []  # (path, lower-cased headers) of each export request

    def record(self, path, headers, request):
        decoded = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    decoded.append(
                        Span(
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_id=s.parent_span_id.hex(),
                            kind=KIND.get(s.kind, str(s.kind)),
                            status=STATUS[s.status.code],
                            attributes={a.key: _value(a.value) for a in s.attributes},
                            events=[
                                (e.name, {a.key: _value(a.value) for a in e.attributes})
                                for e in s.events
                            ],
                            service=resource.get("service.name"),
                            scope=scope_spans.scope.name,
                        )
                    )
        with self.lock:
            self.posts.append((path, headers))
            self.spans.extend(decoded)

    def tree(self):
        """The root spans, each with `children` filled in (every span id known)."""
        with self.lock:
            spans = list(self.spans)
        by_id = {s.span_id: s for s in spans}
        roots = []
        for s in spans:
            s.children = []
        for s in spans:
            if s.parent_id:
                by_id[s.parent_id].children.append(s)
            else:
                roots.append(s)
        return roots


class OtlpReceiver(_Spans, _Server):
    """Accepts OTLP/HTTP protobuf exports; `spans` holds every span received."""

    def __init__(self):
        _Spans.__init__(self)
        _Server.__init__(self, _ReceiverHandler)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/v1/traces"


class _TraceService(TraceServiceServicer):
    def __init__(self, owner):
        self.owner = owner

    def Export(self, request, context):  # noqa: N802 - the gRPC method's name
        headers = {k.lower(): v for k, v in context.invocation_metadata()}
        self.owner.record("grpc", headers, request)
        return ExportTraceServiceResponse()


class GrpcReceiver(_Spans):
    """Accepts OTLP/gRPC exports (the collector's TraceService); `spans` as above."""

    def __init__(self):
        super().__init__()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=2))
        add_TraceServiceServicer_to_server(_TraceService(self), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.server.stop(grace=None).wait(10)


class _ZipkinHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.owner.lock:
            self.server.owner.spans.extend(json.loads(body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class ZipkinReceiver(_Server):
    """Accepts Zipkin v2 JSON posts; `spans` holds the span objects as sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []
        super().__init__(_ZipkinHandler)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/api/v2/spans"


class _TargetHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        owner = self.server.owner
        length = int(self.headers.get("Content-Length", "0"))
        if length:
            self.rfile.read(length)
        with owner.lock:
            owner.requests.append(
                (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            )
        status = 500 if self.path.startswith("/fail") else 200
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

    def log_message(self, *args):
        pass


class Target(_Server):
    """An HTTP target: 200 everywhere except under /fail (500); `requests` holds
    (method, path, lower-cased headers) of each request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        super().__init__(_TargetHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def headers_for(self, path):
        with self.lock:
            return [h for _, p, h in self.requests if p == path]


def otel_env(receiver, **extra):
    """The environment for a traced run exporting to `receiver` (no MITE_CONF_* from outside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MITE_CONF_", "OTEL_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        MITE_CONF_OTEL_ENABLED="true",
        MITE_CONF_OTEL_SPAN_PROCESSOR="otlp",
        MITE_CONF_OTEL_OTLP_ENDPOINT=receiver.endpoint if receiver else "",
    )
    env.update(extra)
    return env


def run_python(tmp_path, source, env, timeout=RUN_TIMEOUT):
    """Runs a Python script (an indented source string) in `tmp_path`; returns the result."""
    script = Path(tmp_path) / "script.py"
    script.write_text(textwrap.dedent(source).lstrip())
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_mite(args, cwd, env, timeout=RUN_TIMEOUT):
    """Runs the `mite` command beside this interpreter to the end; returns the result."""
    return subprocess.run(
        [str(MITE), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def traceparent(headers):
    """(trace id, parent span id, sampled) from a request's `traceparent` header."""
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert version == "00" and len(flags) == 2, headers["traceparent"]
    return trace_id, span_id, bool(int(flags, 16) & 1)
