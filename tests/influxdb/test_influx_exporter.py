"""`mite influxdb_exporter` fed by our `mite stats`: the stats dumps it reads become the same
series in a real InfluxDB 1.x and at the v2/v3 endpoint, exactly once, and it survives a
malformed dump."""

import random

import pytest
from influxsupport import StatsChain, http_metrics, mite_env, txn, wait_for

from mite._native import Socket


def _messages(seed=7):
    rng = random.Random(seed)
    msgs, expected, times = [], {}, []
    for i in range(400):
        name, err = rng.choice(["login", "search", "checkout :: pay"]), rng.random() < 0.2
        msgs.append(txn(name, err))
        expected[(name, str(err))] = expected.get((name, str(err)), 0) + 1
        if i % 2 == 0:
            t = rng.choice([0.003, 0.03, 0.3, 3.0])
            msgs.append(http_metrics("login", t))
            times.append(t)
    return msgs, expected, times


@pytest.fixture
def chain_factory(tmp_path):
    chains = []

    def make(env, *args):
        chains.append(StatsChain(tmp_path, env, args))
        return chains[-1]

    yield make
    for chain in chains:
        chain.kill()


def test_exporter_to_influxdb_1(fresh_db, chain_factory):
    chain = chain_factory(mite_env(**fresh_db.env()), "--include-buckets")
    msgs, expected, times = _messages()
    chain.send(msgs)

    def totals():
        rows = fresh_db.rows("mite_transaction_total")
        last = {}
        for row in sorted(rows, key=lambda r: r["time"]):
            last[(row["transaction"], row["had_error"])] = row["value_cumulative"]
        return last == expected and rows

    rows = wait_for(totals, 60, "the exported totals in InfluxDB")
    status, _, err = chain.stop()
    assert status == 0, err[-3000:]
    assert "Traceback" not in err
    assert {r["test"] for r in rows} == {"exported"}
    # Interval values add up to the totals: each count was written once.
    sums = {}
    for row in fresh_db.rows("mite_transaction_total"):
        key = (row["transaction"], row["had_error"])
        sums[key] = sums.get(key, 0) + row["value"]
    assert sums == expected

    summary = fresh_db.rows("mite_http_response_time_seconds_summary")
    assert sum(r["count"] for r in summary) == len(times)
    buckets = fresh_db.rows("mite_http_response_time_seconds_bucket")
    inf = max((r for r in buckets if r["le"] == "+Inf"), key=lambda r: r["time"])
    assert inf["count"] == len(times)
    assert {r["le"] for r in buckets} >= {"0.0001", "0.01", "1.0", "64.0", "+Inf"}


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_exporter_to_the_v2_v3_endpoint(stand_in, chain_factory, version):
    if version == "v2":
        env = {"INFLUXDB_VERSION": "v2", "INFLUXDB_TOKEN": stand_in.token, "INFLUXDB_ORG": stand_in.org, "INFLUXDB_BUCKET": "mite-bucket"}
    else:
        # v3 is mite 2.11's default when INFLUXDB_VERSION is not set.
        stand_in.org = "default"
        env = {"INFLUXDB_TOKEN": stand_in.token, "INFLUXDB_DATABASE": "mite-bucket"}
    chain = chain_factory(mite_env(INFLUXDB_HOST=stand_in.url, **env))
    msgs, expected, times = _messages(seed=11)
    chain.send(msgs)

    def totals():
        last = {}
        for p in stand_in.of("mite_transaction_total"):
            last[(p["tags"]["transaction"], p["tags"]["had_error"])] = p["fields"]["value_cumulative"]
        return last == expected

    wait_for(totals, 60, "the exported totals at the stand-in")
    status, _, err = chain.stop()
    assert status == 0, err[-3000:]
    assert stand_in.errors == []
    writes = [r for r in stand_in.requests if r["lines"]]
    assert writes and all(r["path"] == "/api/v2/write" for r in writes)
    assert all(r["headers"]["Authorization"] == f"Token {stand_in.token}" for r in writes)
    assert all(r["query"] == {"org": stand_in.org, "bucket": "mite-bucket", "precision": "ns"} for r in writes)
    counts = [p["fields"]["count"] for p in stand_in.of("mite_http_response_time_seconds_summary")]
    assert sum(counts) == len(times)
    assert stand_in.of("mite_http_response_time_seconds_bucket") == []  # no --include-buckets


def test_exporter_skips_a_malformed_dump_and_goes_on(stand_in, chain_factory, tmp_path):
    env = mite_env(INFLUXDB_HOST=stand_in.url, INFLUXDB_VERSION="2", INFLUXDB_TOKEN=stand_in.token, INFLUXDB_ORG=stand_in.org, INFLUXDB_BUCKET="mite-bucket")
    chain = chain_factory(env)
    rogue = Socket("PUSH", chain.stats_out)
    for junk in (b"\xc1\xc1", b"\x93\x01\x02\x03", b"\x91\x81\xa4name\xa1x"):
        assert rogue.send(junk, 20000)
    chain.send([txn("after junk", False)] * 5)
    wait_for(
        lambda: any(p["fields"]["value_cumulative"] == 5 for p in stand_in.of("mite_transaction_total")),
        60,
        "the dump after the malformed ones",
    )
    rogue.close(0)
    status, _, err = chain.stop()
    assert status == 0, err[-3000:]
    assert "Traceback" not in err
    assert err.count("skipped a malformed stats dump") == 3
    assert "malformed=3" in err


def test_stopping_right_after_the_last_message_loses_nothing(stand_in, chain_factory):
    env = mite_env(INFLUXDB_HOST=stand_in.url, INFLUXDB_VERSION="2", INFLUXDB_TOKEN=stand_in.token, INFLUXDB_ORG=stand_in.org, INFLUXDB_BUCKET="mite-bucket")
    chain = chain_factory(env)
    msgs, expected, times = _messages(seed=3)
    chain.send(msgs)
    # No waiting on a dump: stats gets SIGINT as soon as it holds the frames (it sends its last
    # dump on the way out), then the exporter (which writes what is queued and what it holds).
    status, _, err = chain.stop()
    assert status == 0, err[-3000:]
    sums = {}
    for p in stand_in.of("mite_transaction_total"):
        key = (p["tags"]["transaction"], p["tags"]["had_error"])
        sums[key] = sums.get(key, 0) + p["fields"]["value"]
    assert sums == expected
    assert sum(p["fields"]["count"] for p in stand_in.of("mite_http_response_time_seconds_summary")) == len(times)
