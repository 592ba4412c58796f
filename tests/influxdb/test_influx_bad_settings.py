"""Missing or wrong INFLUXDB_* settings and unusable servers stop `--influxdb`, `influxdb_exporter`
and `influxdb init` before anything runs: exit 1, one line naming the setting or address."""

import pytest
from influx_journeys import write_scenario
from influxsupport import free_port, mite_env

from helpers import mite_lines, run_mite

CLOSED = f"http://127.0.0.1:{free_port()}"

CASES = [
    ({}, "INFLUXDB_HOST, INFLUXDB_TOKEN, INFLUXDB_DATABASE are not set (InfluxDB v3"),
    (
        {"INFLUXDB_VERSION": "v1", "INFLUXDB_HOST": CLOSED, "INFLUXDB_USERNAME": "u", "INFLUXDB_DATABASE": "d"},
        "INFLUXDB_PASSWORD is not set (InfluxDB v1 output needs INFLUXDB_HOST, INFLUXDB_USERNAME, INFLUXDB_PASSWORD, INFLUXDB_DATABASE)",
    ),
    ({"INFLUXDB_VERSION": "2", "INFLUXDB_HOST": CLOSED, "INFLUXDB_TOKEN": "t"}, "INFLUXDB_BUCKET, INFLUXDB_ORG are not set"),
    ({"INFLUXDB_VERSION": "banana"}, "INFLUXDB_VERSION must be an InfluxDB version such as v1, v2 or v3, got 'banana'"),
    ({"INFLUXDB_VERSION": "v4"}, "INFLUXDB_VERSION=v4: InfluxDB 4 is not supported"),
    (
        {"INFLUXDB_HOST": "ftp://127.0.0.1:1", "INFLUXDB_TOKEN": "t", "INFLUXDB_DATABASE": "d"},
        "INFLUXDB_HOST must be an http(s) URL such as http://localhost:8086, got 'ftp://127.0.0.1:1'",
    ),
    (
        {"INFLUXDB_VERSION": "v2", "INFLUXDB_HOST": CLOSED, "INFLUXDB_TOKEN": "t", "INFLUXDB_ORG": "o", "INFLUXDB_BUCKET": "b"},
        f"InfluxDB at {CLOSED} (INFLUXDB_HOST) is unreachable: cannot connect:",
    ),
]
COMMANDS = {
    "scenario test": lambda tmp: ["scenario", "test", write_scenario(tmp), "--influxdb=1"],
    "influxdb_exporter": lambda tmp: ["influxdb_exporter", f"--stats-out-socket=tcp://127.0.0.1:{free_port()}"],
}


def _assert_one_line(proc, needle):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = mite_lines(proc.stderr)
    assert len(lines) == 1 and needle in lines[0], proc.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("env, needle", CASES, ids=range(len(CASES)))
def test_bad_settings_stop_before_the_run(tmp_path, command, env, needle):
    proc = run_mite(COMMANDS[command](tmp_path), cwd=tmp_path, env=mite_env(**env), timeout=60)
    _assert_one_line(proc, needle)
    # Nothing ran: no journey, so nothing was collected.
    current = tmp_path / "collector_data" / "current"
    assert not current.exists() or current.stat().st_size == 0


def test_init_names_the_bad_setting(tmp_path):
    proc = run_mite(["influxdb", "init"], cwd=tmp_path, env=mite_env(INFLUXDB_VERSION="1.8"), timeout=60)
    _assert_one_line(proc, "INFLUXDB_HOST, INFLUXDB_USERNAME, INFLUXDB_PASSWORD, INFLUXDB_DATABASE are not set")


def test_the_second_destination_is_checked_too(tmp_path, stand_in):
    env = mite_env(
        INFLUXDB_VERSION="v2",
        INFLUXDB_HOST=stand_in.url,
        INFLUXDB_TOKEN=stand_in.token,
        INFLUXDB_ORG=stand_in.org,
        INFLUXDB_BUCKET="mite-bucket",
        INFLUXDB_VERSION_2="v2",
        INFLUXDB_HOST_2=stand_in.url,
    )
    proc = run_mite(["scenario", "test", write_scenario(tmp_path), "--influxdb=2"], cwd=tmp_path, env=env, timeout=60)
    _assert_one_line(proc, "INFLUXDB_TOKEN_2, INFLUXDB_BUCKET_2, INFLUXDB_ORG_2 are not set")


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"INFLUXDB_PASSWORD": "wrong"}, "refused the write: HTTP 401: authorization failed"),
        ({"INFLUXDB_DATABASE": "nodb"}, 'refused the write: HTTP 404: database not found: "nodb"'),
        ({"INFLUXDB_RETENTION_POLICY": "nope"}, "refused the write: HTTP 500: retention policy not found: nope"),
    ],
    ids=["password", "database", "retention-policy"],
)
def test_influxdb_1_refusals_stop_before_the_run(tmp_path, influx1, change, needle):
    env = mite_env(**{**influx1.env(), **change})
    proc = run_mite(["scenario", "test", write_scenario(tmp_path), "--influxdb=1"], cwd=tmp_path, env=env, timeout=60)
    _assert_one_line(proc, f"InfluxDB at {influx1.url} (INFLUXDB_HOST) {needle}")
    assert "wrong" not in proc.stderr  # the password stays out of the output


def test_v2_bad_token_stops_before_the_run(tmp_path, stand_in):
    env = mite_env(
        INFLUXDB_VERSION="v2", INFLUXDB_HOST=stand_in.url, INFLUXDB_TOKEN="bad", INFLUXDB_ORG=stand_in.org, INFLUXDB_BUCKET="mite-bucket"
    )
    proc = run_mite(["influxdb_exporter", f"--stats-out-socket=tcp://127.0.0.1:{free_port()}"], cwd=tmp_path, env=env, timeout=60)
    _assert_one_line(proc, "refused the write: HTTP 401: unauthorized access")
