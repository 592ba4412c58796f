"""Helpers for the mite.test / mite.logoutput / mite.web / acurl-names surface tests: a loopback
HTTP target, the reference mite 2.11.0's interpreter, running a script under either, waiting."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OURS_PYTHON = sys.executable
OURS_MITE = str(Path(sys.executable).with_name("mite"))
REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
REF_PYTHON = REF_VENV / "bin" / "python"
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Target(BaseHTTPRequestHandler):
    """GET /item/N answers {"id": N}; POST echoes its JSON with 201; anything else 404."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/item/"):
            self._reply(200, {"id": self.path.rsplit("/", 1)[-1]})
        else:
            self._reply(404, {"missing": self.path})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self._reply(201, json.loads(self.rfile.read(length) or b"{}"))

    def do_DELETE(self):
        self._reply(200, {"deleted": self.path})

    do_PUT = do_PATCH = do_POST


class HttpTarget:
    """A threaded loopback HTTP server (see `_Target`); `url` is its base address."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


def require_reference():
    """The reference interpreter; a missing reference venv is an install bug, so this fails."""
    assert REF_PYTHON.exists(), f"mite 2.11.0 reference venv missing at {REF_VENV} (make ref-venv)"
    return REF_PYTHON


def run_script(python, source, cwd, args=(), timeout=TIMEOUT):
    """Runs `source` (dedented) as a script under `python` in `cwd`; returns CompletedProcess."""
    path = Path(cwd) / "_script.py"
    path.write_text(textwrap.dedent(source).lstrip())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(python), str(path), *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate, what, timeout=TIMEOUT, proc=None):
    """Polls `predicate` until it returns something true; fails after `timeout` seconds, or at
    once when `proc` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
