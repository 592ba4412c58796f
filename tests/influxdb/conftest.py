"""Fixtures for the InfluxDB suite: a real InfluxDB 1.x per test module, a v2/v3 stand-in per test,
and an HTTP target for journeys. Every server is stopped (by pid) at the end."""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# The suite's shared helpers (tests/helpers.py) sit one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from influxsupport import Influx1, StandIn  # noqa: E402


@pytest.fixture(scope="module")
def influx1(tmp_path_factory):
    server = Influx1(tmp_path_factory.mktemp("influxd")).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_db(influx1):
    """The `mite` database emptied for this test."""
    influx1.query("DROP DATABASE mite")
    influx1.query("CREATE DATABASE mite")
    return influx1


@pytest.fixture
def stand_in():
    server = StandIn().start()
    yield server
    server.stop()


class _Target(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page"
    server.shutdown()
    server.server_close()
