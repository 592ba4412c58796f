"""The deployment suite's fixtures: a Docker daemon, the offline base images and the mite image.

Nothing comes from a registry: the base is a debootstrapped Debian with Python (cached under
~/.cache/mite-deploy), Prometheus is the host's Debian binary on it, and the mite image installs
the wheels `make image-wheels` put in dist/image-wheels, built with networking off.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "mite-offline-base:bookworm"
PROMETHEUS_IMAGE = "mite-offline-prometheus:latest"
MITE_IMAGE = "mite:deploy-test"


def pytest_ignore_collect(collection_path, config):
    """Collected only when asked for by path (`make deploy-test`): a plain `pytest` leaves it out.

    The suite builds images and runs a whole deployment (minutes, a Docker daemon), so `make test`
    does not run it (docs/DEPLOYMENT.md, "The deployment tests").
    """
    here = Path(__file__).resolve().parent
    asked = [Path(a.split("::")[0]).resolve() for a in config.args]
    if any(a == here or here in a.parents for a in asked):
        return None
    return True


def run(cmd, timeout=600, check=True, env=None, cwd=ROOT):
    """Runs `cmd`, returns its CompletedProcess; a failure shows the command's output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(check, timeout, what, interval=1.0):
    """Calls `check` until it returns something truthy (returned) or `timeout` s pass (fails)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as e:  # the thing waited for may not answer yet
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def _docker_up():
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def docker(tmp_path_factory):
    """A running Docker daemon: the one already running, or one started here and stopped after."""
    for tool in ("docker", "dockerd", "docker-compose", "debootstrap", "prometheus"):
        assert shutil.which(tool), f"{tool} is missing: `make deploy-test` installs it"
    if _docker_up():
        yield
        return
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with open(log, "wb") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(_docker_up, 60, f"dockerd to answer (log: {log})")
        yield
    finally:
        daemon.terminate()
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


@pytest.fixture(scope="session")
def offline_images(docker):
    """The debootstrapped base image and the Prometheus image on it (built once, then cached)."""
    run([str(ROOT / "deploy/offline/base-image.sh"), BASE_IMAGE, PROMETHEUS_IMAGE], timeout=1800)
    return BASE_IMAGE, PROMETHEUS_IMAGE


@pytest.fixture(scope="session")
def mite_image(offline_images):
    """The mite image, built by the repository's Dockerfile with no network at all."""
    wheels = list((ROOT / "dist/image-wheels").glob("mite-*.whl"))
    assert wheels, "dist/image-wheels has no mite wheel: run `make image-wheels` (make deploy-test does)"
    run(["docker", "build", "--network=none", "--build-arg", f"BASE_IMAGE={offline_images[0]}",
         "-t", MITE_IMAGE, "."], timeout=900)
    return MITE_IMAGE


def compose_env(**extra):
    """The environment a `make`/compose call of the suite runs with."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    return env
