"""`mite influxdb init`: a zero point per registered stat, every label "__init__", in a real
InfluxDB 1.x and (with --influxdb=2) at the v2 endpoint too."""

from importlib.metadata import entry_points

from influxsupport import mite_env

from helpers import mite_lines, run_mite


def _registered():
    """(name, is_histogram) of every stat registered under `mite_stats` (mite 2.11's five entry
    points: mite, mite_http, mite_selenium, mite_kafka, mite_finagle)."""
    stats = []
    for ep in sorted(entry_points(group="mite_stats"), key=lambda e: e.name):
        stats.extend((s.name, type(s).__name__ == "Histogram") for s in ep.load())
    return stats


STATS = [name for name, _ in _registered()]
# A histogram is written as its `_summary` measurement.
MEASUREMENTS = {f"{name}_summary" if hist else name for name, hist in _registered()}


def test_init_writes_zero_points(tmp_path, fresh_db):
    proc = run_mite(["influxdb", "init"], cwd=tmp_path, env=mite_env(**fresh_db.env()), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"Initialized {len(STATS)} metrics for instance (default):" in proc.stderr
    for name in STATS:
        assert f"  - {name}" in proc.stderr

    measurements = {v[0] for v in fresh_db.query("SHOW MEASUREMENTS")["series"][0]["values"]}
    assert {"mite_transaction_total", "mite_http_response_time_seconds_summary"} <= MEASUREMENTS
    assert measurements == MEASUREMENTS
    [row] = fresh_db.rows("mite_transaction_total")
    assert row["value"] == 0 and row["value_cumulative"] == 0
    assert {row[k] for k in ("test", "journey", "transaction", "had_error")} == {"__init__"}
    assert fresh_db.field_types("mite_transaction_total") == {"value": "integer", "value_cumulative": "integer"}
    [gauge] = fresh_db.rows("mite_actual_count")
    assert gauge["test"] == gauge["scenario_id"] == "__init__" and gauge["value"] == 0
    assert fresh_db.field_types("mite_actual_count") == {"value": "float"}
    [summary] = fresh_db.rows("mite_http_response_time_seconds_summary")
    assert summary["transaction"] == "__init__"
    fields = {k: v for k, v in summary.items() if k not in ("time", "transaction")}
    assert set(fields) == {
        *(f"p{p}{c}" for p in (50, 75, 90, 95, 99) for c in ("", "_cumulative")),
        *(f"{f}{c}" for f in ("sum", "count", "avg") for c in ("", "_cumulative")),
    }
    assert set(fields.values()) == {0}
    types = fresh_db.field_types("mite_http_response_time_seconds_summary")
    assert types["count"] == types["count_cumulative"] == "integer" and types["p99"] == "float"


def test_init_two_destinations(tmp_path, fresh_db, stand_in):
    env = mite_env(
        **fresh_db.env(),
        INFLUXDB_VERSION_2="v2",
        INFLUXDB_HOST_2=stand_in.url,
        INFLUXDB_TOKEN_2=stand_in.token,
        INFLUXDB_ORG_2=stand_in.org,
        INFLUXDB_BUCKET_2="mite-bucket",
    )
    proc = run_mite(["influxdb", "init", "--influxdb=2"], cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "for instance (default):" in proc.stderr and "for instance_2:" in proc.stderr
    assert len(fresh_db.rows("mite_runner_count")) == 1
    assert stand_in.errors == []
    [point] = stand_in.of("mite_http_response_total")
    assert point["tags"] == dict.fromkeys(["test", "journey", "transaction", "method", "response_code"], "__init__")
    assert point["fields"] == {"value": 0, "value_cumulative": 0}
    assert {p["measurement"] for p in stand_in.points} == MEASUREMENTS


def test_init_failure_exits_1_and_the_others_are_still_written(tmp_path, fresh_db, stand_in):
    env = mite_env(
        **fresh_db.env(INFLUXDB_PASSWORD="wrong"),
        INFLUXDB_VERSION_2="v2",
        INFLUXDB_HOST_2=stand_in.url,
        INFLUXDB_TOKEN_2=stand_in.token,
        INFLUXDB_ORG_2=stand_in.org,
        INFLUXDB_BUCKET_2="mite-bucket",
    )
    proc = run_mite(["influxdb", "init", "--influxdb=2"], cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = mite_lines(proc.stderr)
    assert lines == [f"mite: error: influxdb init instance (default) at {fresh_db.url}: HTTP 401: authorization failed"]
    assert fresh_db.rows("mite_runner_count") == []
    assert stand_in.of("mite_runner_count")
