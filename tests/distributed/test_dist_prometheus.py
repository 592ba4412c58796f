"""A real Prometheus (Debian's `prometheus` package) scraping the exporter of a real deployment
every second; the series comes back through Prometheus' HTTP API."""

import json
import shutil
import urllib.parse
import urllib.request

import pytest
from distsupport import (
    Control,
    Pipeline,
    free_port,
    metric_total,
    wait_for,
    write_scenario,
)

PROMETHEUS = shutil.which("prometheus")

CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: mite
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def query(port, promql):
    """The result vector of an instant query, [] if Prometheus is not answering yet."""
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            answer = json.loads(r.read())
    except OSError:
        return []
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.mark.slow
@pytest.mark.dist_timeout(120)
def test_prometheus_scrapes_the_exporter(deployment, target):
    assert PROMETHEUS, "prometheus is not installed (`make ref-venv` installs it)"
    pipeline = Pipeline(deployment)
    prom_port = free_port()
    config = deployment.dir / "prometheus.yml"
    config.write_text(CONFIG.format(port=pipeline.web_port))
    prometheus = deployment.start_program("prometheus", [
        PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={deployment.dir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn",
    ])
    pipeline.wait_ready()
    spec = write_scenario(deployment, target.url, duration=2, concurrency=2)
    control = Control(deployment, spec, pipeline.message)
    # Prometheus is scraping a live exporter.
    wait_for(lambda: [r for r in query(prom_port, 'up{job="mite"}') if r["value"][1] == "1"],
             30, "up{job=mite} == 1", [prometheus])
    control.wait_finished(timeout=60)
    body = pipeline.exported(target.served)
    exported = metric_total(body, "mite_http_response_total")
    assert exported > 0

    def stored_total():
        result = query(prom_port, "sum(mite_http_response_total)")
        return result and float(result[0]["value"][1]) == exported and result

    wait_for(stored_total, 20, f"sum(mite_http_response_total) == {exported} in Prometheus",
             [prometheus])
    series = query(prom_port, "mite_http_response_total")
    assert len(series) == 1, series
    labels = series[0]["metric"]
    assert labels["__name__"] == "mite_http_response_total"
    assert labels["job"] == "mite" and labels["instance"] == f"127.0.0.1:{pipeline.web_port}"
    assert labels["method"] == "b'GET'" and labels["response_code"] == "200"
    assert labels["test"] == spec and labels["transaction"] == "__root__ :: get"
    # The histogram arrives as a histogram: its buckets can be summed into a quantile.
    q = query(prom_port, "histogram_quantile(0.5, sum by (le) (mite_http_response_time_seconds_bucket))")
    assert q and 0 < float(q[0]["value"][1]) <= 64, q
    count = query(prom_port, "sum(mite_http_response_time_seconds_count)")
    assert count and float(count[0]["value"][1]) == exported
