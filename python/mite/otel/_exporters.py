"""The span processor MITE_CONF_OTEL_SPAN_PROCESSOR asks for: console (printed as each span
ends), batch (console, batched), otlp (OTLP over HTTP/protobuf or gRPC) or zipkin (JSON v2)."""

import importlib
from urllib.parse import urlparse, urlunparse

from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)

from ._errors import EXTRA_HINT, MissingExtraError

__all__ = ["span_processor"]

# The SDK refuses a batch larger than its queue; the queue grows with the batch instead.
_DEFAULT_QUEUE = 2048


def _import_exporter(module, package):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if e.name is not None and not module.startswith(e.name):
            raise  # an installed exporter failing inside is a bug, with its traceback
        raise MissingExtraError(
            f"mite.otel's exporter needs {package}, which is not installed: {EXTRA_HINT}",
            name=module,
        ) from None


def _otlp_http_url(endpoint):
    """An OTLP/HTTP endpoint given without a path gets the standard `/v1/traces` (mite 2.11
    posted to `/`, which collectors answer with 404)."""
    parsed = urlparse(endpoint)
    if parsed.path in ("", "/"):
        return urlunparse(parsed._replace(path="/v1/traces"))
    return endpoint


def _otlp_exporter(cfg):
    if cfg["otlp_protocol"] == "grpc":
        module = _import_exporter(
            "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
            "opentelemetry-exporter-otlp-proto-grpc",
        )
        endpoint = cfg["otlp_endpoint"]
    else:
        module = _import_exporter(
            "opentelemetry.exporter.otlp.proto.http.trace_exporter",
            "opentelemetry-exporter-otlp-proto-http",
        )
        endpoint = _otlp_http_url(cfg["otlp_endpoint"])
    return module.OTLPSpanExporter(
        endpoint=endpoint, headers=cfg["otlp_headers_dict"], timeout=cfg["export_timeout"]
    )


def _zipkin_exporter(cfg):
    module = _import_exporter(
        "opentelemetry.exporter.zipkin.json", "opentelemetry-exporter-zipkin-json"
    )
    return module.ZipkinExporter(endpoint=cfg["otlp_endpoint"], timeout=cfg["export_timeout"])


def _batch(exporter, cfg):
    size = cfg["max_export_batch_size"]
    return BatchSpanProcessor(
        exporter, max_queue_size=max(size, _DEFAULT_QUEUE), max_export_batch_size=size
    )


def span_processor(cfg):
    """The processor (with its exporter) for checked settings `cfg` (see config.py)."""
    kind = cfg["span_processor"]
    if kind == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if kind == "batch":
        return _batch(ConsoleSpanExporter(), cfg)
    if kind == "otlp":
        return _batch(_otlp_exporter(cfg), cfg)
    return _batch(_zipkin_exporter(cfg), cfg)
