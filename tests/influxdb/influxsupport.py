"""Servers for the InfluxDB suite: a real InfluxDB 1.x (Debian's `influxd`) and a loopback
stand-in for the v2/v3 write endpoint that parses each line with `line-protocol-parser`."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from line_protocol_parser import parse_line

from helpers import MITE, clean_env, wait_push_delivered, zmtp_wire_bytes

ADMIN, PASSWORD, DATABASE = "admin", "s3cret pw", "mite"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30.0, what="a condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _http(method, url, data=None, headers=None, timeout=10):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Influx1:
    """`influxd` 1.x with authentication on, in `folder`, on free loopback ports; an admin
    user and the database `mite` exist when `start` returns."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout=60):
        binary = shutil.which("influxd")
        assert binary, "influxd is missing: apt-get install -y influxdb"
        conf = self.folder / "influxdb.conf"
        conf.write_text(
            f"""
reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.folder / "meta"}"
[data]
  dir = "{self.folder / "data"}"
  wal-dir = "{self.folder / "wal"}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = true
  log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
"""
        )
        self.log = open(self.folder / "influxd.log", "wb")
        self.proc = subprocess.Popen(
            [binary, "-config", str(conf)], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(self._pinged, timeout, f"influxd /ping on {self.url}")
        status, body = _http("POST", f"{self.url}/query", self._form(f"CREATE USER {ADMIN} WITH PASSWORD '{PASSWORD}' WITH ALL PRIVILEGES"))
        assert status == 200, body
        self.query(f"CREATE DATABASE {DATABASE}")
        return self

    def _pinged(self):
        assert self.proc.poll() is None, (self.folder / "influxd.log").read_text()[-3000:]
        try:
            return _http("GET", f"{self.url}/ping", timeout=1)[0] == 204
        except OSError:
            return False

    @staticmethod
    def _form(q):
        return urllib.parse.urlencode({"q": q}).encode()

    def query(self, q, db=DATABASE):
        auth = base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()
        status, body = _http(
            "POST",
            f"{self.url}/query?db={db}&epoch=ns",
            self._form(q),
            {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200, body
        result = json.loads(body)["results"][0]
        assert "error" not in result, result
        return result

    def rows(self, measurement):
        """Every point of `measurement` as a dict of column -> value (tags and fields)."""
        rows = []
        for series in self.query(f'SELECT * FROM "{measurement}"').get("series", []):
            for values in series["values"]:
                rows.append(dict(zip(series["columns"], values, strict=True)))
        return rows

    def field_types(self, measurement):
        result = self.query(f'SHOW FIELD KEYS FROM "{measurement}"')
        return {k: t for series in result.get("series", []) for k, t in series["values"]}

    def env(self, suffix="", **extra):
        return {
            f"INFLUXDB_VERSION{suffix}": "v1",
            f"INFLUXDB_HOST{suffix}": self.url,
            f"INFLUXDB_USERNAME{suffix}": ADMIN,
            f"INFLUXDB_PASSWORD{suffix}": PASSWORD,
            f"INFLUXDB_DATABASE{suffix}": DATABASE,
            **extra,
        }

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


class StandIn:
    """The v2/v3 write endpoint (`POST /api/v2/write`) on loopback: checks the token, org,
    bucket and precision, parses every line with a real parser and keeps the points.

    `fail_next` answers that many writes with 503 first; `requests` keeps each request's
    path, query and headers."""

    def __init__(self, token="tok-123", org="my-org", buckets=("mite-bucket",)):
        self.token, self.org, self.buckets = token, org, set(buckets)
        self.points, self.requests, self.errors, self.bodies = [], [], [], []
        self.fail_next = 0
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=b""):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer(204 if self.path == "/ping" else 404)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(*stand_in.handle(self.path, dict(self.headers), body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def handle(self, path, headers, body):
        url = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(url.query))
        with self.lock:
            self.requests.append({"path": url.path, "query": query, "headers": headers, "lines": body.count(b"\n") + bool(body)})
            if url.path != "/api/v2/write":
                return 404, b'{"code":"not found","message":"path not found"}'
            if headers.get("Authorization") != f"Token {self.token}":
                return 401, b'{"code":"unauthorized","message":"unauthorized access"}'
            if query.get("org") != self.org or query.get("bucket") not in self.buckets:
                return 404, b'{"code":"not found","message":"bucket not found"}'
            if query.get("precision") != "ns":
                return 400, b'{"code":"invalid","message":"precision"}'
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, b'{"code":"unavailable","message":"try later"}'
            self.bodies.append(body)
            for line in body.decode("utf-8").split("\n"):
                if line:
                    try:
                        point = parse_line(line.encode())
                    except Exception as e:
                        self.errors.append(f"{line!r}: {e}")
                        return 400, b'{"code":"invalid","message":"unable to parse"}'
                    point["bucket"] = query["bucket"]
                    self.points.append(point)
        return 204, b""

    def of(self, measurement):
        with self.lock:
            return [p for p in self.points if p["measurement"] == measurement]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def mite_env(**settings):
    """The test environment without any INFLUXDB_* of the caller's, plus `settings`."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("INFLUXDB_")}
    env.update(settings)
    return env


def start_mite(args, cwd, env):
    """Starts `mite ARGS` with stdout and stderr in files under `cwd`; returns the Popen."""
    out = open(Path(cwd) / "mite.out", "wb")
    err = open(Path(cwd) / "mite.err", "wb")
    return subprocess.Popen(
        [str(MITE), *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
    )


def stop_mite(proc, cwd, timeout=60):
    """SIGINT, then waits; returns (status, stdout, stderr)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"mite did not stop within {timeout} s of SIGINT") from None
    return proc.returncode, (Path(cwd) / "mite.out").read_text(), (Path(cwd) / "mite.err").read_text()


def address():
    return f"tcp://127.0.0.1:{free_port()}"


class StatsChain:
    """`mite influxdb_exporter` fed by `mite stats`, fed by a PUSH socket this process binds."""

    def __init__(self, folder, env, exporter_args=()):
        from mite._native import Socket

        self.folder = Path(folder)
        self.stats_in, self.stats_out = address(), address()
        self.push = Socket("PUSH", self.stats_in, bind=True)
        self.wire_bytes = 0
        (self.folder / "exporter").mkdir()
        (self.folder / "stats").mkdir()
        self.exporter = start_mite(
            ["influxdb_exporter", f"--stats-out-socket={self.stats_out}", *exporter_args], self.folder / "exporter", env
        )
        self.stats = start_mite(
            ["stats", f"--stats-in-socket={self.stats_in}", f"--stats-out-socket={self.stats_out}"],
            self.folder / "stats",
            env,
        )

    def send(self, messages):
        from mite.utils import pack_msg

        for msg in messages:
            frame = pack_msg(msg)
            assert self.push.send(frame, 20000), "mite stats did not connect"
            self.wire_bytes += zmtp_wire_bytes(frame)

    def stop(self):
        """Stops stats, then the exporter; returns the exporter's (status, stdout, stderr).
        Stats is stopped once it holds every frame sent (in its socket's queue, not yet read):
        what it then does with them is the point, not how fast the kernel hands them over."""
        wait_push_delivered(int(self.stats_in.rsplit(":", 1)[1]), self.wire_bytes)
        stop_mite(self.stats, self.folder / "stats")
        result = stop_mite(self.exporter, self.folder / "exporter")
        self.push.close(0)
        return result

    def kill(self):
        for proc in (self.stats, self.exporter):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.push.close(0)


def txn(transaction, had_error, test="exported"):
    return {
        "type": "txn",
        "time": time.time(),
        "test": test,
        "runner_id": 1,
        "journey": "mod:journey",
        "context_id": 1,
        "scenario_id": 1,
        "scenario_data_id": 1,
        "transaction": transaction,
        "transaction_id": 1,
        "start_time": time.time(),
        "end_time": time.time(),
        "had_error": had_error,
    }


def http_metrics(transaction, total_time, test="exported"):
    return {
        "type": "http_metrics",
        "time": time.time(),
        "test": test,
        "journey": "mod:journey",
        "transaction": transaction,
        "method": b"GET",
        "response_code": 200,
        "total_time": total_time,
    }
