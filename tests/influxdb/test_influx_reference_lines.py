"""The lines written for a sequence of stats dumps are the ones mite 2.11.0 writes (captured from
its InfluxMetrics with influxdb-client 1.50.0 against a capturing server), up to the timestamp."""

import pytest
from influxsupport import StandIn, wait_for

from mite.influxdb import InfluxMetrics, destination

# Two dumps with awkward labels: a space, comma and equals sign in a tag value, None and ""
# (dropped), False, an int and bytes (written as Python's str()), an int bin bound.
DUMP = [
    {
        "type": "Counter",
        "name": "mite_transaction_total",
        "metrics": {("t", "j", "a b,c=d", False): 3, ("t", "j", "", None): 2},
        "labels": ("test", "journey", "transaction", "had_error"),
    },
    {"type": "Gauge", "name": "mite_actual_count", "metrics": {("t", 1): 5}, "labels": ("test", "scenario_id")},
    {
        "type": "Histogram",
        "name": "h",
        "bin_counts": {("t", b"GET"): [1, 2, 3]},
        "sums": {("t", b"GET"): 0.75},
        "total_counts": {("t", b"GET"): 4},
        "bins": (0.1, 0.5, 1),
        "labels": ("test", "method"),
    },
]

REF_FIRST = r"""
mite_transaction_total,had_error=False,journey=j,test=t,transaction=a\ b\,c\=d value=3i,value_cumulative=3i
mite_transaction_total,journey=j,test=t value=2i,value_cumulative=2i
mite_actual_count,scenario_id=1,test=t value=5
h_summary,method=b'GET',test=t avg=0.1875,avg_cumulative=0.1875,count=4i,count_cumulative=4i,p50=0.5,p50_cumulative=0.5,p75=1,p75_cumulative=1,p90=1,p90_cumulative=1,p95=1,p95_cumulative=1,p99=1,p99_cumulative=1,sum=0.75,sum_cumulative=0.75
h_bucket,le=0.1,method=b'GET',test=t count=1i
h_bucket,le=0.5,method=b'GET',test=t count=2i
h_bucket,le=1,method=b'GET',test=t count=3i
h_bucket,le=+Inf,method=b'GET',test=t count=4i
"""

REF_SECOND = r"""
mite_transaction_total,journey=j,test=t value=2i,value_cumulative=4i
mite_transaction_total,had_error=False,journey=j,test=t,transaction=a\ b\,c\=d value=3i,value_cumulative=6i
mite_actual_count,scenario_id=1,test=t value=5
h_summary,method=b'GET',test=t avg=0.1875,avg_cumulative=0.1875,count=4i,count_cumulative=8i,p50=0.5,p50_cumulative=0.5,p75=1,p75_cumulative=1,p90=1,p90_cumulative=1,p95=1,p95_cumulative=1,p99=1,p99_cumulative=1,sum=0.75,sum_cumulative=1.5
h_bucket,le=0.1,method=b'GET',test=t count=2i
h_bucket,le=0.5,method=b'GET',test=t count=4i
h_bucket,le=1,method=b'GET',test=t count=6i
h_bucket,le=+Inf,method=b'GET',test=t count=8i
"""


def _lines_without_time(body):
    lines = body.decode().split("\n")
    stamps = {line.rsplit(" ", 1)[1] for line in lines}
    assert len(stamps) == 1, "one timestamp per batch, as in mite 2.11"
    return sorted(line.rsplit(" ", 1)[0] for line in lines)


@pytest.fixture
def stand_in():
    server = StandIn().start()
    yield server
    server.stop()


def test_two_dumps_make_mite_2_11s_lines(stand_in):
    env = {
        "INFLUXDB_VERSION": "2",
        "INFLUXDB_HOST": stand_in.url,
        "INFLUXDB_TOKEN": stand_in.token,
        "INFLUXDB_ORG": stand_in.org,
        "INFLUXDB_BUCKET": "mite-bucket",
    }
    metrics = InfluxMetrics(include_buckets=True, destination=destination("", env))
    metrics.MIN_FLUSH_INTERVAL = 0
    metrics.process(DUMP)
    wait_for(lambda: len(stand_in.bodies) == 1, what="the first write")
    metrics.process(DUMP)
    assert metrics.close() == 0
    assert stand_in.errors == []
    assert len(stand_in.bodies) == 2
    assert _lines_without_time(stand_in.bodies[0]) == sorted(REF_FIRST.strip().split("\n"))
    assert _lines_without_time(stand_in.bodies[1]) == sorted(REF_SECOND.strip().split("\n"))


def test_points_parse_with_the_types_2_11_writes(stand_in):
    env = {"INFLUXDB_HOST": stand_in.url, "INFLUXDB_TOKEN": stand_in.token, "INFLUXDB_DATABASE": "mite-bucket"}
    stand_in.org = "default"  # influxdb3-python's org, which mite 2.11's v3 output sends
    metrics = InfluxMetrics(include_buckets=False, destination=destination("", env))
    metrics.process(DUMP)
    assert metrics.close() == 0
    summary = stand_in.of("h_summary")[0]
    assert summary["tags"] == {"test": "t", "method": "b'GET'"}
    assert isinstance(summary["fields"]["count"], int) and summary["fields"]["count"] == 4
    assert isinstance(summary["fields"]["p75"], float) and summary["fields"]["p75"] == 1.0
    assert stand_in.of("h_bucket") == []
    counter = {p["tags"].get("transaction"): p["fields"] for p in stand_in.of("mite_transaction_total")}
    assert counter == {"a b,c=d": {"value": 3, "value_cumulative": 3}, None: {"value": 2, "value_cumulative": 2}}
