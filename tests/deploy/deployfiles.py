"""Reads the deployment's files for the tests: compose services with defaults filled, dashboard queries."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")

# What the dashboards' Grafana variables stand for when a query is sent to Prometheus directly.
GRAFANA_VARIABLES = {"$__rate_interval": "20s", "$__range": "5m", "$__interval": "2s", "$test": ".*"}


def with_defaults(value):
    """`value` (str, list or dict) with every `${NAME:-default}` replaced by its default."""
    if isinstance(value, str):
        return _DEFAULT.sub(lambda m: m.group(2), value)
    if isinstance(value, list):
        return [with_defaults(v) for v in value]
    if isinstance(value, dict):
        return {k: with_defaults(v) for k, v in value.items()}
    return value


def compose_services():
    """docker-compose.yml's services, YAML anchors merged and defaults filled in."""
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return with_defaults(doc["services"])


def dashboards():
    """{file name: dashboard dict} of the provisioned dashboards."""
    folder = ROOT / "deploy/grafana/dashboards"
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def panel_queries():
    """[(dashboard title, panel title, PromQL with Grafana's variables substituted)]."""
    out = []
    for board in dashboards().values():
        for panel in board["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for var, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(var, value)
                out.append((board["title"], panel["title"], expr))
    return out
