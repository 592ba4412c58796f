"""The Kubernetes manifests: valid against Kubernetes' schemas, and the same deployment as compose."""

import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from deployfiles import ROOT, compose_services

# Kubernetes names cannot hold "_": the compose service prometheus_exporter is the Service
# prometheus-exporter; every other host name is the same.
HOSTS = {"prometheus_exporter": "prometheus-exporter"}
MITE_SERVICES = {
    "duplicator": ("Deployment", "mite-duplicator"),
    "stats": ("Deployment", "mite-stats"),
    "collector": ("Deployment", "mite-collector"),
    "prometheus_exporter": ("Deployment", "mite-prometheus-exporter"),
    "controller": ("Job", "mite-controller"),
    "runner": ("Deployment", "mite-runner"),
}


@pytest.fixture(scope="module")
def manifests():
    """The rendered kustomization (`kubectl kustomize deploy`), as {(kind, name): resource}."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is missing: `make deploy-test` installs Debian's kubernetes-client"
    out = subprocess.run([kubectl, "kustomize", str(ROOT / "deploy")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def _pod(resource):
    return resource["spec"]["template"]["spec"]


def _container(resource):
    (container,) = _pod(resource)["containers"]
    return container


def _k8s_args(args):
    out = []
    for arg in args:
        for compose_host, k8s_host in HOSTS.items():
            arg = arg.replace(f"//{compose_host}:", f"//{k8s_host}:")
        out.append(arg)
    return out


@pytest.mark.parametrize("version", ["1.29.0", kubernetes_validate.latest_version()])
def test_every_resource_is_valid_against_the_kubernetes_schema(manifests, version):
    for resource in manifests.values():
        kubernetes_validate.validate(resource, version, strict=True)
    assert len(manifests) >= 14


def test_everything_lives_in_the_mite_namespace(manifests):
    assert ("Namespace", "mite") in manifests
    for (kind, name), resource in manifests.items():
        if kind != "Namespace":
            assert resource["metadata"]["namespace"] == "mite", (kind, name)


def test_components_run_the_compose_commands_on_the_compose_image(manifests):
    compose = compose_services()
    for service, key in MITE_SERVICES.items():
        container = _container(manifests[key])
        assert container["image"] == compose[service]["image"] == "mite:latest", service
        assert container["args"] == _k8s_args(compose[service]["command"]), service
    target = _container(manifests[("Deployment", "mite-target")])
    assert target["command"] == compose["target"]["entrypoint"]


def test_controller_gets_the_compose_environment(manifests):
    env = {e["name"]: e["value"] for e in _container(manifests[("Job", "mite-controller")])["env"]}
    assert env == compose_services()["controller"]["environment"]


def test_runners_scale_with_replicas_and_start_as_compose_does(manifests):
    runner = manifests[("Deployment", "mite-runner")]
    assert runner["spec"]["replicas"] == int(compose_services()["runner"]["deploy"]["replicas"])


def test_listening_ports_are_declared_and_served(manifests):
    # Every 0.0.0.0:PORT a component binds is a containerPort; every host:PORT a component
    # connects to is a port of the Service of that name.
    services = {name: r for (kind, name), r in manifests.items() if kind == "Service"}
    for key in [*MITE_SERVICES.values(), ("Deployment", "mite-target")]:
        container = _container(manifests[key])
        words = " ".join(container.get("args", []) + container.get("command", []))
        declared = {p["containerPort"] for p in container.get("ports", [])}
        binds = {int(p) for p in re.findall(r"0\.0\.0\.0:(\d+)", words)}
        if key[1] == "mite-target":
            binds = {int(container["command"][-1])}
        assert binds <= declared, (key, binds, declared)
        for host, port in re.findall(r"tcp://([a-z][\w-]*):(\d+)", words):
            assert host in services, (key, host)
            assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}, (key, host, port)


def test_demo_scenario_target_url_resolves_to_the_target_service(manifests):
    env = {e["name"]: e["value"] for e in _container(manifests[("Job", "mite-controller")])["env"]}
    host, port = re.match(r"http://([\w-]+):(\d+)$", env["MITE_CONF_demo_target"]).groups()
    assert int(port) in {p["port"] for p in manifests[("Service", host)]["spec"]["ports"]}


def test_exporter_carries_scrape_annotations_matching_prometheus_config(manifests):
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (target,) = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    port = target.split(":")[1]
    exporter = manifests[("Deployment", "mite-prometheus-exporter")]
    for annotations in (exporter["spec"]["template"]["metadata"]["annotations"],
                        manifests[("Service", "prometheus-exporter")]["metadata"]["annotations"]):
        assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": port,
                               "prometheus.io/path": "/metrics"}
    assert f"--web-address=0.0.0.0:{port}" in _container(exporter)["args"]


def test_every_container_has_requests_and_a_readiness_probe_where_it_listens(manifests):
    for (kind, name), resource in manifests.items():
        if kind not in ("Deployment", "Job"):
            continue
        container = _container(resource)
        assert container["resources"]["requests"]["cpu"], name
        assert container["resources"]["requests"]["memory"], name
        if container.get("ports"):
            assert container["readinessProbe"], name
        assert _pod(resource)["securityContext"]["runAsNonRoot"] is True, name


def test_scenarios_come_from_the_configmap_where_compose_mounts_the_folder(manifests):
    compose = compose_services()
    config = manifests[("ConfigMap", "mite-scenarios")]
    assert config["data"]["demo.py"] == (ROOT / "deploy/scenarios/demo.py").read_text()
    for service in ("controller", "runner"):
        (mount,) = _container(manifests[MITE_SERVICES[service]])["volumeMounts"]
        (volume,) = compose[service]["volumes"]
        assert mount["mountPath"] == volume["target"] == "/mite"
        (pod_volume,) = _pod(manifests[MITE_SERVICES[service]])["volumes"]
        assert pod_volume["configMap"]["name"] == "mite-scenarios"
