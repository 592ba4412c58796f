"""`mite scenario test --influxdb=1` against a real InfluxDB 1.x: every count the collector saw is
in the database (nothing lost at the end of the run), with mite 2.11's series, tags and fields."""

from collections import Counter

from influx_journeys import write_scenario
from influxsupport import mite_env, start_mite, stop_mite, wait_for

from helpers import collected, of_type, run_mite


def _run(tmp_path, influx, target, *extra):
    spec = write_scenario(tmp_path)
    env = mite_env(**influx.env())
    proc = run_mite(
        ["scenario", "test", spec, "--influxdb=1", f"--add-to-config=target:{target}", "--max-errors-threshold=100000", *extra],
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return collected(tmp_path)


def _latest(rows, key):
    """The last row per tag tuple `key`."""
    last = {}
    for row in sorted(rows, key=lambda r: r["time"]):
        last[tuple(row[k] for k in key)] = row
    return last


def test_counters_match_the_collected_messages(tmp_path, fresh_db, target):
    messages = _run(tmp_path, fresh_db, target)
    txns = Counter((m["transaction"], str(m["had_error"])) for m in of_type(messages, "txn"))
    assert txns[("__root__ :: get page", "True")] > 0 and txns[("__root__ :: get page", "False")] > 0

    rows = fresh_db.rows("mite_transaction_total")
    assert {r["test"] for r in rows} == {"influx_scenario:scenario"}
    assert {r["journey"] for r in rows} == {"influx_scenario:journey"}
    key = ("transaction", "had_error")
    sums = Counter()
    for row in rows:
        sums[tuple(row[k] for k in key)] += row["value"]
    latest = _latest(rows, key)
    for series, n in txns.items():
        # Every interval's count adds up to the total, and the running total ends on it.
        assert sums[series] == n, (series, sums[series], n)
        assert latest[series]["value_cumulative"] == n
    types = fresh_db.field_types("mite_transaction_total")
    assert types == {"value": "integer", "value_cumulative": "integer"}

    errors = of_type(messages, "error")
    error_rows = fresh_db.rows("mite_journey_error_total")
    assert sum(r["value"] for r in error_rows) == len(errors) > 0
    assert {r["message"] for r in error_rows} == {m["message"] for m in errors}
    assert {r["ex_type"] for r in error_rows} == {m["ex_type"] for m in errors}
    assert any("every fourth" in r["message"] for r in error_rows)

    responses = of_type(messages, "http_metrics")
    codes = fresh_db.rows("mite_http_response_total")
    assert sum(r["value"] for r in codes) == len(responses) > 0
    assert {(r["method"], r["response_code"]) for r in codes} == {("b'GET'", "200")}


def test_histogram_summary_and_buckets(tmp_path, fresh_db, target):
    messages = _run(tmp_path, fresh_db, target, "--include-buckets")
    times = [m["total_time"] for m in of_type(messages, "http_metrics")]
    summary = fresh_db.rows("mite_http_response_time_seconds_summary")
    assert {r["transaction"] for r in summary} == {"__root__ :: get page"}
    assert sum(r["count"] for r in summary) == len(times) > 0
    last = max(summary, key=lambda r: r["time"])
    assert last["count_cumulative"] == len(times)
    assert abs(last["sum_cumulative"] - sum(times)) < 1e-6
    assert abs(last["avg_cumulative"] - sum(times) / len(times)) < 1e-9
    assert 0 < last["p50_cumulative"] <= last["p75_cumulative"] <= last["p99_cumulative"]
    types = fresh_db.field_types("mite_http_response_time_seconds_summary")
    assert types["count"] == "integer" and types["p50"] == "float" and types["sum"] == "float"

    buckets = fresh_db.rows("mite_http_response_time_seconds_bucket")
    final = _latest(buckets, ("le",))
    assert final[("+Inf",)]["count"] == len(times)
    for (le,), row in final.items():
        if le != "+Inf":
            assert row["count"] == sum(1 for t in times if t <= float(le)), le

    gauges = fresh_db.rows("mite_actual_count")
    assert gauges and len({r["scenario_id"] for r in gauges}) == 1
    # The gauge carries what the controller's reports said; how many journeys were running at
    # the instant of a report depends on the machine's speed, so it is compared, not fixed.
    reported = [a for r in of_type(messages, "controller_report") for a in r["actual"].values()]
    assert max(r["value"] for r in gauges) == max(reported, default=0)


def test_two_destinations_get_the_same_totals(tmp_path, fresh_db, stand_in, target):
    env = mite_env(
        **fresh_db.env(),
        INFLUXDB_VERSION_2="v2",
        INFLUXDB_HOST_2=stand_in.url,
        INFLUXDB_TOKEN_2=stand_in.token,
        INFLUXDB_ORG_2=stand_in.org,
        INFLUXDB_BUCKET_2="mite-bucket",
    )
    spec = write_scenario(tmp_path)
    args = ["scenario", "test", spec, "--influxdb=2", f"--add-to-config=target:{target}", "--max-errors-threshold=100000"]
    proc = run_mite(args, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    responses = len(of_type(collected(tmp_path), "http_metrics"))
    assert sum(r["value"] for r in fresh_db.rows("mite_http_response_total")) == responses > 0
    assert sum(p["fields"]["value"] for p in stand_in.of("mite_http_response_total")) == responses
    assert stand_in.errors == []


def test_journey_test_stopped_with_ctrl_c_writes_everything(tmp_path, fresh_db, target):
    write_scenario(tmp_path)
    args = [
        "journey",
        "test",
        "influx_scenario:journey",
        "--volume=2",
        "--influxdb=1",
        f"--add-to-config=target:{target}",
        "--max-errors-threshold=100000",
    ]
    proc = start_mite(args, tmp_path, mite_env(**fresh_db.env()))
    wait_for(lambda: fresh_db.rows("mite_http_response_total"), 60, "the first write")
    status, _, err = stop_mite(proc, tmp_path)
    assert status == 130, err[-3000:]
    assert "Traceback" not in err
    responses = len(of_type(collected(tmp_path), "http_metrics"))
    rows = fresh_db.rows("mite_http_response_total")
    assert sum(r["value"] for r in rows) == responses > 0
    assert {r["test"] for r in rows} == {"influx_scenario:journey"}
