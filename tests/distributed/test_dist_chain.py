"""stats -> prometheus_exporter across implementations: our stats feeding the reference's exporter
and the reference's stats feeding ours, each beside an all-reference chain given the same
messages; the samples served must be the same (the text may differ where the reference prints
a counter first seen in a later dump as a float, and the reference's stats adds empty blocks for
its extra processors)."""

import time

import pytest
from distsupport import (
    PROBE_TYPE,
    free_address,
    free_port,
    metric_total,
    needs_ref,
    parse_metrics,
    scrape,
    wait_for,
)
from test_dist_stats import MESSAGES

TOTALS = [("mite_http_response_total", 6), ("mite_transaction_total", 4),
          ("mite_journey_error_total", 4), ("mite_runner_count", 2)]


class Chain:
    def __init__(self, deployment, stats, exporter):
        self.in_address = free_address()
        self.out_address = free_address()
        self.port = free_port()
        self.exporter = deployment.start(
            "prometheus_exporter", f"--stats-out-socket={self.out_address}",
            f"--web-address=127.0.0.1:{self.port}", impl=exporter)
        self.stats = deployment.start(
            "stats", f"--stats-in-socket={self.in_address}",
            f"--stats-out-socket={self.out_address}", impl=stats)
        self.push = deployment.push_bind(self.in_address, watch=[self.stats, self.exporter])

    def body(self):
        got = scrape(self.port)
        return got[2] if got else ""

    def ready(self, timeout=30.0):
        """Messages no stat matches until the exporter shows a first dump."""
        deadline = time.monotonic() + timeout
        while "# TYPE" not in self.body():
            self.push.send({"type": PROBE_TYPE})
            time.sleep(0.1)
            self.stats.assert_alive()
            self.exporter.assert_alive()
            assert time.monotonic() < deadline, "no dump reached the exporter"

    def samples(self):
        return {(name, frozenset(labels.items())): value
                for name, labels, value in parse_metrics(self.body())}


@needs_ref
@pytest.mark.parametrize("stats, exporter", [("ours", "ref"), ("ref", "ours"), ("ours", "ours")],
                         ids=["our-stats-into-ref-exporter", "ref-stats-into-our-exporter",
                              "ours-into-ours"])
def test_stats_into_exporter(deployment, stats, exporter):
    chain = Chain(deployment, stats, exporter)
    ref = Chain(deployment, "ref", "ref")
    for c in (chain, ref):
        c.ready()
    for c in (chain, ref):
        for m in MESSAGES:
            c.push.send(m)
    for c in (chain, ref):
        # mite 2.11.0's stats dumps only while processing a message 0.25 s or more after its last
        # dump: messages no stat matches go on (every 0.5 s) until the exporter has everything.
        def complete(c=c):
            c.push.send({"type": PROBE_TYPE})
            body = c.body()
            return all(metric_total(body, name) == n for name, n in TOTALS)

        wait_for(complete, 60, "every message in /metrics", [c.stats, c.exporter], interval=0.5)
    # Gauges and histograms come in the same dumps as the counters: nothing more is coming.
    got, want = chain.samples(), ref.samples()
    assert metric_total(ref.body(), "mite_http_response_total", method="b'GET'") == 5
    assert got == want
