"""The `mite` command running examples/otel_example.py traced: spans exported over OTLP/HTTP
at the end of `journey test` and `scenario test`, matching the `traceparent` headers the
target saw; bad settings and missing libraries are one line."""

import shutil

import pytest
from otelsupport import EXAMPLES, otel_env, run_mite, traceparent


def _example(tmp_path):
    shutil.copy(EXAMPLES / "otel_example.py", tmp_path)


def _assert_checkout_trace(journey, target):
    """One `checkout` journey span: browse -> GET, add to basket -> POST, and the target saw
    each request with its own span as parent."""
    assert journey.name == "journey.checkout"
    assert journey.attributes["mite.journey.type"] == "http"
    assert journey.attributes["mite.context.type"] == "Context"
    children = {c.name: c for c in journey.children}
    assert set(children) == {"transaction.browse", "transaction.add to basket"}
    [get] = children["transaction.browse"].children
    [post] = children["transaction.add to basket"].children
    assert (get.name, post.name) == ("HTTP GET", "HTTP POST")
    seen = {}
    for _, path, headers in target.requests:
        if "traceparent" in headers:
            seen[traceparent(headers)[1]] = (path, traceparent(headers)[0])
    assert seen[get.span_id] == (get.attributes["http.target"], journey.trace_id)
    assert seen[post.span_id] == ("/basket", journey.trace_id)
    return get, post


def test_journey_test_exports_every_run(tmp_path, receiver, target):
    _example(tmp_path)
    env = otel_env(receiver, MITE_CONF_target=target.url)
    proc = run_mite(
        ["journey", "test", "otel_example:checkout", "otel_example:three_products"], tmp_path, env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    roots = receiver.tree()
    assert len(roots) == 3 and len(receiver.spans) == 15
    targets = set()
    for journey in roots:
        get, _ = _assert_checkout_trace(journey, target)
        targets.add(get.attributes["http.target"])
    assert targets == {"/products/1", "/products/2", "/products/3"}
    assert len({r.trace_id for r in roots}) == 3
    assert len(target.requests) == 6


def test_scenario_test_traces_only_the_traced_journeys(tmp_path, receiver, target):
    _example(tmp_path)
    env = otel_env(receiver, MITE_CONF_target=target.url, MITE_CONF_OTEL_SERVICE_NAME="example")
    proc = run_mite(["scenario", "test", "otel_example:scenario"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    roots = receiver.tree()
    assert roots and {r.name for r in roots} == {"journey.checkout"}
    assert {s.service for s in receiver.spans} == {"example"}
    for journey in roots:
        _assert_checkout_trace(journey, target)
    health = target.headers_for("/health")
    assert health and all("traceparent" not in h for h in health)
    traced = [h for _, p, h in target.requests if p != "/health"]
    assert len(traced) == 2 * len(roots)


def test_the_example_runs_untraced_with_tracing_off(tmp_path, receiver, target):
    _example(tmp_path)
    env = otel_env(receiver, MITE_CONF_target=target.url, MITE_CONF_OTEL_ENABLED="0")
    proc = run_mite(
        ["journey", "test", "otel_example:checkout", "otel_example:three_products"], tmp_path, env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(target.requests) == 6
    assert all("traceparent" not in h for _, _, h in target.requests)
    assert receiver.spans == []


BAD_SETTINGS = [
    ({"ENABLED": "maybe"}, "MITE_CONF_OTEL_ENABLED='maybe': expected true or false"),
    ({"SAMPLER_RATIO": "half"}, "MITE_CONF_OTEL_SAMPLER_RATIO='half': expected a number from 0.0"),
    ({"SAMPLER_RATIO": "1.5"}, "MITE_CONF_OTEL_SAMPLER_RATIO='1.5': expected a number from 0.0"),
    ({"SPAN_PROCESSOR": "jaeger"}, "MITE_CONF_OTEL_SPAN_PROCESSOR='jaeger': expected one of"),
    ({"OTLP_PROTOCOL": "thrift"}, "MITE_CONF_OTEL_OTLP_PROTOCOL='thrift': expected one of"),
    ({"OTLP_ENDPOINT": ""}, "MITE_CONF_OTEL_OTLP_ENDPOINT is not set"),
    ({"OTLP_ENDPOINT": "localhost:4318"}, "MITE_CONF_OTEL_OTLP_ENDPOINT='localhost:4318'"),
    ({"OTLP_HEADERS": "Authorization"}, "MITE_CONF_OTEL_OTLP_HEADERS='Authorization'"),
    ({"MAX_EXPORT_BATCH_SIZE": "0"}, "MITE_CONF_OTEL_MAX_EXPORT_BATCH_SIZE='0'"),
    ({"EXPORT_TIMEOUT": "soon"}, "MITE_CONF_OTEL_EXPORT_TIMEOUT='soon'"),
    ({"SERVICE_NAME": " "}, "MITE_CONF_OTEL_SERVICE_NAME=' '"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, receiver, target, settings, message):
    _example(tmp_path)
    env = otel_env(receiver, MITE_CONF_target=target.url)
    env.update({f"MITE_CONF_OTEL_{k}": v for k, v in settings.items()})
    proc = run_mite(
        ["journey", "test", "otel_example:checkout", "otel_example:three_products"], tmp_path, env
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mite: error: "), proc.stderr
    assert message in lines[0]
    assert target.requests == []


HIDE_OTEL = """
# Stands in for a machine without the otel extra: `import opentelemetry` fails as it would.
raise ModuleNotFoundError("No module named 'opentelemetry'", name="opentelemetry")
"""


def _hide_otel(tmp_path, env):
    hidden = tmp_path / "hidden" / "opentelemetry"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text(HIDE_OTEL)
    env["PYTHONPATH"] = str(tmp_path / "hidden")
    return env


def test_without_the_libraries_tracing_on_is_one_line_naming_the_extra(tmp_path, target):
    _example(tmp_path)
    env = _hide_otel(tmp_path, otel_env(None, MITE_CONF_target=target.url, MITE_CONF_OTEL_ENABLED="true"))
    proc = run_mite(
        ["journey", "test", "otel_example:checkout", "otel_example:three_products"], tmp_path, env
    )
    assert proc.returncode == 1, proc.stderr[-3000:]  # an unusable optional library
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "mite: error: mite.otel needs the OpenTelemetry libraries (opentelemetry is not "
        'installed): pip install "mite[otel]"'
    ], proc.stderr
    assert target.requests == []


def test_without_the_libraries_tracing_off_runs_the_journeys_untraced(tmp_path, target):
    # As in mite 2.11: a scenario using @mite_http_traced runs on a plain install.
    _example(tmp_path)
    env = _hide_otel(tmp_path, otel_env(None, MITE_CONF_target=target.url, MITE_CONF_OTEL_ENABLED="false"))
    proc = run_mite(
        ["journey", "test", "otel_example:checkout", "otel_example:three_products"], tmp_path, env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert target.requests, "the journeys made no requests"
    assert not any("traceparent" in headers for _, _, headers in target.requests)
