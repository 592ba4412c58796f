"""The MITE_CONF_OTEL_* settings as get_otel_config() reads them: mite 2.11's keys and
defaults, accepted spellings, and a one-line OtelConfigError naming each bad setting."""

import os

import pytest

from mite.otel import OtelConfigError, get_otel_config, is_tracing_enabled
from mite.utils import SpecError


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MITE_CONF_OTEL_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_defaults_are_mite_2_11s():
    cfg = get_otel_config()
    assert {k: cfg[k] for k in cfg if k != "otlp_headers_dict"} == {
        "enabled": False,
        "service_name": "mite",
        "sampler_ratio": 1.0,
        "span_processor": "console",
        "otlp_endpoint": "",
        "otlp_protocol": "http/protobuf",
        "otlp_headers": "",
        "max_export_batch_size": 512,
        "export_timeout": 30,
    }
    assert cfg["otlp_headers_dict"] == {}
    assert is_tracing_enabled() is False


@pytest.mark.parametrize(
    ("value", "enabled"),
    [("true", True), ("1", True), ("YES", True), (" on ", True), ("false", False), ("0", False),
     ("", False), ("No", False)],
)  # fmt: skip
def test_enabled_spellings(no_settings, value, enabled):
    no_settings.setenv("MITE_CONF_OTEL_ENABLED", value)
    assert is_tracing_enabled() is enabled
    assert get_otel_config()["enabled"] is enabled


def test_every_setting_is_read(no_settings):
    for name, value in {
        "ENABLED": "true",
        "SERVICE_NAME": " checkout-load ",
        "SAMPLER_RATIO": "0.25",
        "SPAN_PROCESSOR": "OTLP",
        "OTLP_ENDPOINT": "https://collector.example:4318/v1/traces",
        "OTLP_PROTOCOL": "http/protobuf",
        "OTLP_HEADERS": "Authorization=Bearer a=b, x-tenant=load,",
        "MAX_EXPORT_BATCH_SIZE": "100",
        "EXPORT_TIMEOUT": "2.5",
    }.items():
        no_settings.setenv(f"MITE_CONF_OTEL_{name}", value)
    cfg = get_otel_config()
    assert cfg["service_name"] == "checkout-load"
    assert cfg["sampler_ratio"] == 0.25
    assert cfg["span_processor"] == "otlp"
    assert cfg["otlp_endpoint"] == "https://collector.example:4318/v1/traces"
    assert cfg["otlp_headers_dict"] == {"Authorization": "Bearer a=b", "x-tenant": "load"}
    assert cfg["max_export_batch_size"] == 100
    assert cfg["export_timeout"] == 2.5


def test_grpc_takes_host_and_port(no_settings):
    no_settings.setenv("MITE_CONF_OTEL_SPAN_PROCESSOR", "otlp")
    no_settings.setenv("MITE_CONF_OTEL_OTLP_PROTOCOL", "grpc")
    no_settings.setenv("MITE_CONF_OTEL_OTLP_ENDPOINT", "collector:4317")
    assert get_otel_config()["otlp_endpoint"] == "collector:4317"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SAMPLER_RATIO": "-0.1"}, "MITE_CONF_OTEL_SAMPLER_RATIO='-0.1': expected a number"),
        ({"MAX_EXPORT_BATCH_SIZE": "1.5"}, "MITE_CONF_OTEL_MAX_EXPORT_BATCH_SIZE='1.5'"),
        ({"EXPORT_TIMEOUT": "0"}, "MITE_CONF_OTEL_EXPORT_TIMEOUT='0'"),
        ({"SPAN_PROCESSOR": "zipkin"}, "MITE_CONF_OTEL_OTLP_ENDPOINT is not set"),
        (
            {"SPAN_PROCESSOR": "zipkin", "OTLP_ENDPOINT": "ftp://x/"},
            "MITE_CONF_OTEL_OTLP_ENDPOINT='ftp://x/': expected an http:// or https:// URL",
        ),
        ({"OTLP_HEADERS": "a=1,=2"}, "MITE_CONF_OTEL_OTLP_HEADERS='a=1,=2'"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(no_settings, settings, message):
    for name, value in settings.items():
        no_settings.setenv(f"MITE_CONF_OTEL_{name}", value)
    with pytest.raises(OtelConfigError) as info:
        get_otel_config()
    assert message in str(info.value) and "\n" not in str(info.value)
    # A SpecError: the `mite` command prints it as one line, exit status 2.
    assert isinstance(info.value, SpecError)
