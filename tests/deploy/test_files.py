"""The deployment's files on their own: compose names no absolute host path, dashboards are current."""

import importlib.util

import yaml
from deployfiles import GRAFANA_VARIABLES, ROOT, compose_services, dashboards


def test_compose_names_no_absolute_host_path():
    for name, service in compose_services().items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            assert not source.startswith("/"), (name, volume)


def test_compose_has_the_topology():
    services = compose_services()
    assert {"duplicator", "stats", "collector", "prometheus_exporter", "controller", "runner",
            "target", "prometheus", "grafana"} <= set(services)
    assert services["runner"]["deploy"]["replicas"] == "2"
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["prometheus_exporter:9301"]
    assert "--web-address=0.0.0.0:9301" in services["prometheus_exporter"]["command"]


def test_dashboards_are_what_the_build_script_writes():
    spec = importlib.util.spec_from_file_location("build_dashboards", ROOT / "deploy/grafana/build_dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.render().items():
        assert (ROOT / "deploy/grafana/dashboards" / name).read_text() == text, (
            f"{name} is stale: run python3 deploy/grafana/build_dashboards.py"
        )


def test_dashboards_use_the_provisioned_datasource_and_known_variables():
    source = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/mite.yml").read_text())
    mounts = compose_services()["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in mounts
    boards = dashboards()
    assert len(boards) >= 2
    for name, board in boards.items():
        assert board["uid"] and board["panels"], name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                leftover = target["expr"]
                for var in GRAFANA_VARIABLES:
                    leftover = leftover.replace(var, "")
                assert "$" not in leftover, (name, panel["title"], target["expr"])
