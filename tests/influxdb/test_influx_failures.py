"""A server that fails during the run: failed writes are logged and counted, their points kept and
sent again (so a brief outage loses nothing); a server that stays away ends the run with exit 1
and one line counting the lost points, while the collector still has every message."""

import time
from collections import Counter

from influx_journeys import write_scenario
from influxsupport import mite_env, start_mite, stop_mite, wait_for

from helpers import collected, mite_lines, of_type


def _env(stand_in):
    return mite_env(
        INFLUXDB_VERSION="v2",
        INFLUXDB_HOST=stand_in.url,
        INFLUXDB_TOKEN=stand_in.token,
        INFLUXDB_ORG=stand_in.org,
        INFLUXDB_BUCKET="mite-bucket",
    )


def _args(tmp_path, target, duration):
    return [
        "scenario",
        "test",
        write_scenario(tmp_path, duration),
        "--influxdb=1",
        f"--add-to-config=target:{target}",
        "--max-errors-threshold=100000",
    ]


def _finish(proc, tmp_path, timeout=90):
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return stop_mite(proc, tmp_path)


def test_failed_writes_are_sent_again(tmp_path, stand_in, target):
    # The check before the run takes the first 503 (and goes on: 2.x may refuse an empty
    # write), the first two real writes the others.
    stand_in.fail_next = 3
    proc = start_mite(_args(tmp_path, target, 4), tmp_path, _env(stand_in))
    status, _, err = _finish(proc, tmp_path)
    assert status == 0, err[-3000:]
    assert err.count("failed: HTTP 503: try later") == 2, err[-3000:]
    assert "Traceback" not in err
    txns = of_type(collected(tmp_path), "txn")
    totals, expected = {}, Counter((m["transaction"], str(m["had_error"])) for m in txns)
    for p in stand_in.of("mite_transaction_total"):
        key = (p["tags"]["transaction"], p["tags"]["had_error"])
        totals[key] = max(totals.get(key, 0), p["fields"]["value_cumulative"])
    assert totals == expected
    assert "0 points lost" in err


def test_a_server_that_goes_away_fails_the_run_in_one_line(tmp_path, stand_in, target):
    proc = start_mite(_args(tmp_path, target, 6), tmp_path, _env(stand_in))
    wait_for(lambda: stand_in.of("mite_transaction_total"), 60, "the first write")
    stand_in.stop()
    stopped = time.time()
    status, _, err = _finish(proc, tmp_path)
    assert status == 1, err[-3000:]
    assert "Traceback" not in err
    lines = mite_lines(err)
    assert len(lines) == 1, err[-3000:]
    assert "InfluxDB points for " + stand_in.url + " could not be written" in lines[0]
    assert "cannot connect" in lines[0]
    assert "InfluxDB write of" in err and "failed: cannot connect" in err
    # The run itself went on after the server went away (journeys still started), and the
    # collector has all of it.
    txns = of_type(collected(tmp_path), "txn")
    assert any(m["start_time"] > stopped for m in txns), "no journey started after the outage"
