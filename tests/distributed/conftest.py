"""Fixtures for the distributed-mode suite (components over ZeroMQ on loopback).

Run it against ours:                 .venv/bin/pytest tests/distributed
against the reference mite 2.11.0:   MITE_DIST_UNDER_TEST=ref .venv/bin/pytest tests/distributed
without the real deployments:        .venv/bin/pytest tests/distributed -m "not slow"

The reference lives in $MITE_REF_VENV (default ~/.cache/mite-ref-venv; `make ref-venv` makes it).
Every test has a hard time limit (`dist_timeout` marker, default 60 s); every process a test starts
is stopped at its end (SIGINT, SIGTERM, SIGKILL) and dies with the test session in any case.
"""

import faulthandler
import signal
import sys

import distsupport
import pytest

DEFAULT_TIMEOUT = 60


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: runs a real deployment or a real Prometheus (seconds to tens of seconds)"
    )
    config.addinivalue_line(
        "markers", "dist_timeout(seconds): hard time limit of one distributed-mode test"
    )


def pytest_report_header(config):
    ref = distsupport.REF_MITE if distsupport.HAVE_REF else f"{distsupport.REF_MITE} (missing)"
    return [
        f"distributed: under test: {distsupport.UNDER_TEST} "
        f"(ours={distsupport.OURS_MITE}, reference={ref})"
    ]


class HardTimeout(Exception):
    pass


def _timeout_of(item):
    marker = item.get_closest_marker("dist_timeout")
    return marker.args[0] if marker else DEFAULT_TIMEOUT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # A last resort if something ignores the alarm below: dump every thread's stack and exit.
    faulthandler.dump_traceback_later(_timeout_of(item) + 90, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    limit = _timeout_of(item)

    def expired(signum, frame):
        raise HardTimeout(f"test still running after its {limit} s limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    deployment = getattr(item, "_dist_deployment", None)
    if deployment is not None and report.when in ("setup", "call") and report.failed:
        report.sections.append(("mite components", deployment.logs()))


@pytest.fixture
def deployment(request, tmp_path):
    """A Deployment in this test's scratch folder; everything it started is stopped at the end."""
    dep = distsupport.Deployment(tmp_path)
    request.node._dist_deployment = dep
    try:
        yield dep
    finally:
        dep.close()


@pytest.fixture
def target():
    """A loopback HTTP target counting the GETs it answered."""
    server = distsupport.HttpTarget()
    yield server
    server.stop()
