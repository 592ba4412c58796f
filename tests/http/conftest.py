"""Fixtures for the HTTP-layer tests: loopback servers started once per test session.

The suite imports only public names (`acurl`, `mite_http`, `mite.context`), never our package's
internals, so it runs unchanged against the reference mite 2.11.0 / acurl 1.2.1:

    ~/.cache/mite-ref-venv/bin/python -m pytest tests/http -q -p no:cacheprovider \
        --rootdir=tests/http -c /dev/null

(from the repository root; the reference venv, made by `make ref-venv`, needs `pytest`:
`~/.cache/mite-ref-venv/bin/pip install pytest`).
An engine that fails to import fails every module (a collection error), never a skip.
Tests of correct behaviour that acurl 1.2.1 gets wrong are strict xfails on the reference only
(`httpsupport.reference_bug`); options the reference lacks (`timeout=`, `http_version=`) are
skipped there only (`httpsupport.beyond_reference`, whose reason says so). `MITE_HTTP_TEST_LOOP=uvloop` runs everything on uvloop.
"""

import gc
import socket

import pytest
import servers
from httpsupport import REFERENCE


def pytest_configure(config):
    if REFERENCE:
        # acurl 1.2.1's Session.__dealloc__ asks its loop `is_closed()` even when the garbage
        # collector has already torn that loop down; the AttributeError it ignores is its own.
        config.addinivalue_line(
            "filterwarnings",
            "ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning",
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # No garbage collection while pytest renders a failure (strict xfails included): on the
    # reference, a collected acurl 1.2.1 Session runs its failing `__dealloc__` in the middle of
    # the `ast.parse` that renders the traceback, and CPython 3.11 then reports "AST constructor
    # recursion depth mismatch" as an INTERNALERROR that ends the whole run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    """Sessions a test dropped are finalised in its own teardown, not in a later test's report."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def http_server():
    server = servers.TestServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """(certfile, keyfile) of a self-signed certificate for 127.0.0.1, made for this session."""
    return servers.make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def https_server(tls_files):
    server = servers.TestServer(tls=tls_files)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def h2_server(tmp_path_factory, tls_files):
    """nginx with `listen ... ssl http2` (HTTP/2 by ALPN). Its absence is an installation bug
    (`make ref-venv` installs it), so the tests that need it fail (an error), never skip."""
    assert servers.nginx_supports_http2(), "nginx with the http_v2 module is not installed"
    server = servers.NginxH2Server(tmp_path_factory.mktemp("nginx"), *tls_files)
    yield server
    server.stop()


@pytest.fixture
def closed_port():
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
