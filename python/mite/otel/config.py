"""The MITE_CONF_OTEL_* settings: read from the environment on every call (so a changed
environment is seen at once) and checked, a bad value being one line that names the setting."""

import os
from typing import Any
from urllib.parse import urlparse

from ._errors import OtelConfigError

__all__ = ["PROCESSORS", "PROTOCOLS", "get_otel_config", "is_tracing_enabled"]

PREFIX = "MITE_CONF_OTEL_"
PROCESSORS = ("console", "batch", "otlp", "zipkin")
PROTOCOLS = ("http/protobuf", "grpc")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _raw(name, default):
    return os.environ.get(PREFIX + name, default)


def _bad(name, value, expected):
    return OtelConfigError(f"{PREFIX}{name}={value!r}: expected {expected}")


def _flag(name, default):
    value = _raw(name, default)
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _bad(name, value, "true or false")


def _number(name, default, cast, low, high, expected):
    value = _raw(name, default)
    try:
        number = cast(value.strip())
    except ValueError:
        raise _bad(name, value, expected) from None
    if not low <= number <= high:
        raise _bad(name, value, expected)
    return number


def _choice(name, default, choices):
    value = _raw(name, default)
    text = value.strip().lower()
    if text not in choices:
        raise _bad(name, value, "one of " + ", ".join(choices))
    return text


def _headers(value):
    """`key=value,key2=value2` -> dict; an entry without `=` or without a key is an error."""
    headers = {}
    for item in value.split(","):
        if not item.strip():
            continue
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise _bad("OTLP_HEADERS", value, "comma-separated key=value pairs")
        headers[key.strip()] = val.strip()
    return headers


def _timeout(name, default):
    seconds = _number(name, default, float, 0.001, 86400.0, "a number of seconds above 0")
    return int(seconds) if seconds.is_integer() else seconds


def _endpoint(processor, protocol):
    """The collector URL, required by the otlp and zipkin processors."""
    value = _raw("OTLP_ENDPOINT", "").strip()
    if processor not in ("otlp", "zipkin"):
        return value
    if not value:
        raise OtelConfigError(
            f"{PREFIX}OTLP_ENDPOINT is not set: {PREFIX}SPAN_PROCESSOR={processor} needs "
            "the collector's URL"
        )
    if processor == "otlp" and protocol == "grpc":
        return value  # grpc takes host:port as well as a URL
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _bad("OTLP_ENDPOINT", value, "an http:// or https:// URL")
    return value


def get_otel_config() -> dict[str, Any]:
    """The OpenTelemetry settings (mite 2.11's keys and defaults), checked."""
    processor = _choice("SPAN_PROCESSOR", "console", PROCESSORS)
    protocol = _choice("OTLP_PROTOCOL", "http/protobuf", PROTOCOLS)
    service_name = _raw("SERVICE_NAME", "mite").strip()
    if not service_name:
        raise _bad("SERVICE_NAME", _raw("SERVICE_NAME", ""), "a non-empty name")
    return {
        "enabled": _flag("ENABLED", "false"),
        "service_name": service_name,
        "sampler_ratio": _number(
            "SAMPLER_RATIO", "1.0", float, 0.0, 1.0, "a number from 0.0 to 1.0"
        ),
        "span_processor": processor,
        "otlp_endpoint": _endpoint(processor, protocol),
        "otlp_protocol": protocol,
        "otlp_headers": _raw("OTLP_HEADERS", ""),
        "otlp_headers_dict": _headers(_raw("OTLP_HEADERS", "")),
        "max_export_batch_size": _number(
            "MAX_EXPORT_BATCH_SIZE", "512", int, 1, 1_000_000, "a whole number above 0"
        ),
        "export_timeout": _timeout("EXPORT_TIMEOUT", "30"),
    }


def is_tracing_enabled() -> bool:
    """Whether MITE_CONF_OTEL_ENABLED is on (1, true, yes, on); only that setting is read."""
    return _flag("ENABLED", "false")
