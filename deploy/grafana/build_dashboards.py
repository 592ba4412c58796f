"""Writes the provisioned Grafana dashboards (deploy/grafana/dashboards/*.json) from one description.

Every query uses the metric names and label values mite's prometheus_exporter emits, as mite 2.11
does: `had_error="True"`, `method="b'GET'"`, `transaction="__root__"` for a whole journey and
`"__root__ :: name"` for a transaction inside it. Run `python3 deploy/grafana/build_dashboards.py`
after editing; tests/deploy checks the JSON files match this script.
"""

import json
import sys
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "mite-prometheus"}
OUT = Path(__file__).resolve().parent / "dashboards"

RI = "$__rate_interval"
TEST = 'test=~"$test"'
TXN = f'{TEST},transaction!="__root__"'


def _target(expr, legend, ref):
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(kind, title, targets, pos, unit="short", description="", **extra):
    """A panel of `kind` (timeseries, stat, table) at `pos` = (x, y, w, h) with `targets` as (expr, legend)."""
    x, y, w, h = pos
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [_target(e, leg, chr(ord("A") + i)) for i, (e, leg) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    elif kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value", "graphMode": "area"}
    elif kind == "table":
        for t in p["targets"]:
            t.update(instant=True, format="table")
        p["transformations"] = [{"id": "merge"}, {"id": "organize", "options": {"excludeByName": {"Time": True}}}]
    p.update(extra)
    return p


def _test_variable():
    return {
        "name": "test",
        "label": "test",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": "label_values(mite_runner_count, test)", "refId": "test"},
        "definition": "label_values(mite_runner_count, test)",
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"text": "All", "value": "$__all"},
        "sort": 1,
    }


def dashboard(uid, title, description, panels):
    for i, p in enumerate(panels, start=1):
        p["id"] = i
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["mite"],
        "timezone": "browser",
        "editable": True,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "schemaVersion": 39,
        "version": 1,
        "templating": {"list": [_test_variable()]},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["mite"], "asDropdown": False, "title": "mite"}],
        "panels": panels,
    }


def _quantile(q, by="le"):
    return f"histogram_quantile({q}, sum by ({by}) (rate(mite_http_response_time_seconds_bucket[{RI}])))"


_ERROR_PCT = (
    f'100 * sum(rate(mite_transaction_total{{{TXN},had_error="True"}}[{RI}]))'
    f" / sum(rate(mite_transaction_total{{{TXN}}}[{RI}]))"
)


def overview():
    rps = f"sum(rate(mite_http_response_total{{{TEST}}}[{RI}]))"
    panels = [
        panel("stat", "Requests / s", [(rps, "requests/s")], (0, 0, 4, 4), "reqps"),
        panel("stat", "Transactions failed", [(_ERROR_PCT, "failed %")], (4, 0, 4, 4), "percent",
              "Share of transactions (not whole journeys) that ended with an error."),
        panel("stat", "p95 response time", [(_quantile(0.95), "p95")], (8, 0, 4, 4), "s"),
        panel("stat", "Runners", [(f"sum(mite_runner_count{{{TEST}}})", "runners")], (12, 0, 4, 4)),
        panel("stat", "Journeys running", [(f"sum(mite_actual_count{{{TEST}}})", "actual")],
              (16, 0, 4, 4)),
        panel("stat", "Journeys required", [(f"sum(mite_required_count{{{TEST}}})", "required")],
              (20, 0, 4, 4)),
        panel("timeseries", "HTTP responses / s by status",
              [(f"sum by (response_code) (rate(mite_http_response_total{{{TEST}}}[{RI}]))",
                "{{response_code}}")],
              (0, 4, 12, 8), "reqps"),
        panel("timeseries", "HTTP responses / s by method",
              [(f"sum by (method) (rate(mite_http_response_total{{{TEST}}}[{RI}]))", "{{method}}")],
              (12, 4, 12, 8), "reqps", "The method label reads as mite 2.11 sends it, e.g. b'GET'."),
        panel("timeseries", "Response time percentiles",
              [(_quantile(q), f"p{int(q * 100)}") for q in (0.5, 0.9, 0.95, 0.99)]
              + [(f"sum(rate(mite_http_response_time_seconds_sum[{RI}]))"
                  f" / sum(rate(mite_http_response_time_seconds_count[{RI}]))", "mean")],
              (0, 12, 12, 8), "s"),
        panel("timeseries", "p95 response time by transaction",
              [(_quantile(0.95, "le, transaction"), "{{transaction}}")], (12, 12, 12, 8), "s"),
        panel("timeseries", "Errors / s",
              [(f"sum by (response_code) (rate(mite_http_response_total{{{TEST},response_code!~\"[23]..\"}}[{RI}]))",
                "HTTP {{response_code}}"),
               (f"sum by (ex_type) (rate(mite_journey_error_total{{{TEST}}}[{RI}]))", "{{ex_type}}")],
              (0, 20, 12, 8), "reqps", "HTTP responses that are not 2xx/3xx, and journey errors by type."),
        panel("timeseries", "Transactions failed %",
              [(f'100 * sum by (transaction) (rate(mite_transaction_total{{{TXN},had_error="True"}}[{RI}]))'
                f" / sum by (transaction) (rate(mite_transaction_total{{{TXN}}}[{RI}]))",
                "{{transaction}}")],
              (12, 20, 12, 8), "percent"),
        panel("timeseries", "Transactions / s",
              [(f"sum by (transaction) (rate(mite_transaction_total{{{TXN}}}[{RI}]))", "{{transaction}}")],
              (0, 28, 12, 8), "ops"),
        panel("timeseries", "Journeys completed / s",
              [(f'sum by (journey, had_error) (rate(mite_transaction_total{{{TEST},transaction="__root__"}}[{RI}]))',
                "{{journey}} error={{had_error}}")],
              (12, 28, 12, 8), "ops"),
        panel("timeseries", "Required vs actual journeys",
              [(f"sum by (test, scenario_id) (mite_required_count{{{TEST}}})", "required {{scenario_id}}"),
               (f"sum by (test, scenario_id) (mite_actual_count{{{TEST}}})", "actual {{scenario_id}}")],
              (0, 36, 12, 8), "short", "Journeys the volume model asks for against those running."),
        panel("timeseries", "Runners", [(f"sum by (test) (mite_runner_count{{{TEST}}})", "{{test}}")],
              (12, 36, 12, 8)),
        panel("table", "Journey errors in the time range",
              [(f"sum by (journey, transaction, ex_type, message) "
                f"(increase(mite_journey_error_total{{{TEST}}}[$__range])) > 0", "")],
              (0, 44, 24, 8)),
    ]
    return dashboard("mite-overview", "mite overview",
                     "Load, errors, latency, journeys and runners of a mite test.", panels)


def transactions():
    by = "sum by (transaction)"
    panels = [
        panel("table", "Transactions in the time range",
              [(f"{by} (increase(mite_transaction_total{{{TXN}}}[$__range]))", "count"),
               (f'{by} (increase(mite_transaction_total{{{TXN},had_error="True"}}[$__range])) or '
                f"{by} (increase(mite_transaction_total{{{TXN}}}[$__range])) * 0", "failed"),
               ("histogram_quantile(0.5, sum by (le, transaction) "
                "(increase(mite_http_response_time_seconds_bucket[$__range])))", "p50"),
               ("histogram_quantile(0.99, sum by (le, transaction) "
                "(increase(mite_http_response_time_seconds_bucket[$__range])))", "p99")],
              (0, 0, 24, 10)),
        panel("timeseries", "p50 response time by transaction",
              [(_quantile(0.5, "le, transaction"), "{{transaction}}")], (0, 10, 12, 8), "s"),
        panel("timeseries", "p99 response time by transaction",
              [(_quantile(0.99, "le, transaction"), "{{transaction}}")], (12, 10, 12, 8), "s"),
        panel("timeseries", "Mean response time by transaction",
              [(f"{by} (rate(mite_http_response_time_seconds_sum[{RI}]))"
                f" / {by} (rate(mite_http_response_time_seconds_count[{RI}]))", "{{transaction}}")],
              (0, 18, 12, 8), "s"),
        panel("timeseries", "HTTP responses / s by transaction and status",
              [(f"sum by (transaction, response_code) (rate(mite_http_response_total{{{TEST}}}[{RI}]))",
                "{{transaction}} {{response_code}}")],
              (12, 18, 12, 8), "reqps"),
    ]
    return dashboard("mite-transactions", "mite transactions",
                     "Per-transaction counts, failures and response times of a mite test.", panels)


DASHBOARDS = {"mite-overview.json": overview, "mite-transactions.json": transactions}


def render():
    """{file name: JSON text} of every dashboard."""
    return {name: json.dumps(make(), indent=2) + "\n" for name, make in DASHBOARDS.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}", file=sys.stderr)
