"""Shared pieces of the browser-extension suites (mite_selenium, mite_playwright, mite_browser):
a loopback site, a real chromedriver, and running an example under ours and mite 2.11.0."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msgpack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OUR_MITE = Path(sys.executable).with_name("mite")
REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
REF_MITE = REF_VENV / "bin" / "mite"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ID_KEYS = ("test", "runner_id", "journey", "context_id", "scenario_id", "scenario_data_id")
TAIL_KEYS = ("type", "time", *ID_KEYS, "transaction", "transaction_id")
RUN_TIMEOUT = 120
# How long the site holds a page's load event waiting for the browser to report its first paint.
PAINT_GATE_TIMEOUT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A page whose load event waits for its first contentful paint: the gate image is answered only
# once the page's script has reported the paint (/painted), so when a WebDriver `get` returns
# (after load), both paint entries exist, whatever the machine's speed.
PAINTED_PAGE = """<!doctype html>
<html><head><title>mite browser test</title></head>
<body><h1 id="title">Hello from the loopback site</h1>
<p>Some text to paint.</p>
<script>
new PerformanceObserver((list, observer) => {
  if (list.getEntries().some(e => e.name === 'first-contentful-paint')) {
    observer.disconnect();
    fetch('/painted?id=__ID__');
  }
}).observe({type: 'paint', buffered: true});
</script>
<img src="/gate.gif?id=__ID__" alt="gate">
</body></html>
"""

GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)

SHOP_HOME = """<!doctype html><html><head><title>Shop</title>
<link rel="stylesheet" href="/static/site.css"><script src="/static/app.js"></script></head>
<body><h1>Welcome</h1>
<a href="/products?page=1">Products</a> <a href="forms">Forms</a>
<img src="/static/logo.gif">
<iframe src="/frame"></iframe>
<form name="search" action="/search" method="post">
  <input type="text" name="q" value="">
  <input type="hidden" name="token" value="abc123">
  <select name="sort"><option value="price">Price</option><option value="name" selected>Name</option></select>
  <textarea name="note">first note</textarea>
  <input type="radio" name="size" value="s"><input type="radio" name="size" value="m" checked>
  <input type="text" name="ghost" value="x" disabled>
  <input type="submit" name="go" value="Go">
</form>
</body></html>
"""

# Forms mite 2.11 cannot read (an input without a type; radios beside a nameless field).
TRICKY_FORMS = """<!doctype html><html><body>
<form name="filter" action="/filter?old=1" method="get">
  <input name="colour" value="red"><input type="checkbox" name="instock" value="yes">
  <input type="radio" name="cut" value="slim" checked><input type="radio" name="cut" value="wide">
  <input type="submit" value="Filter">
</form>
</body></html>
"""


class Site:
    """A threaded HTTP/1.1 server on 127.0.0.1 serving the test pages; records every request."""

    def __init__(self):
        self.requests = []
        self._painted = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site._handle(self, "GET")

            def do_POST(self):
                site._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _event(self, key):
        with self._lock:
            return self._painted.setdefault(key, threading.Event())

    def _handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": query,
                    "headers": dict(h.headers),
                    "body": body,
                }
            )
        status, ctype, payload, extra = self._route(method, parts.path, query, body, h.headers)
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        for k, v in extra:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def _route(self, method, path, query, body, headers):
        html = "text/html; charset=utf-8"
        page_id = query.get("id", "0")
        if path in ("/", "/page"):
            return 200, html, PAINTED_PAGE.replace("__ID__", page_id).encode(), []
        if path == "/painted":
            self._event(page_id).set()
            return 200, "text/plain", b"ok", []
        if path == "/gate.gif":
            painted = self._event(page_id)
            painted.wait(PAINT_GATE_TIMEOUT)
            painted.clear()  # the next load of the page waits for its own paint
            return 200, "image/gif", GIF, [("Cache-Control", "no-store")]
        if path == "/shop":
            return 200, html, SHOP_HOME.encode(), [("Set-Cookie", "visitor=v1; Path=/")]
        if path == "/forms":
            return 200, html, TRICKY_FORMS.encode(), []
        if path == "/products":
            return (
                200,
                html,
                f"<html><body><h2>Products page {query.get('page')}</h2></body></html>".encode(),
                [],
            )
        if path in ("/search", "/filter", "/echo"):
            echoed = {
                "method": method,
                "query": query,
                "form": dict(parse_qsl(body.decode(), keep_blank_values=True)),
                "content_type": headers.get("Content-Type"),
                "cookie": headers.get("Cookie"),
                "requested_with": headers.get("X-Requested-With"),
                "referer": headers.get("Referer"),
                "user_agent": headers.get("User-Agent"),
            }
            if path == "/echo":
                return 200, "application/json", json.dumps(echoed).encode(), []
            pre = json.dumps(echoed)
            return (
                200,
                html,
                f"<html><body><h2>Results</h2><pre id='echo'>{pre}</pre></body></html>".encode(),
                [],
            )
        if path == "/frame":
            return 200, html, b"<html><body><img src='/static/frame.gif'></body></html>", []
        if path == "/static/site.css":
            return 200, "text/css", b"body { background: url('/static/bg.gif'); }", []
        if path == "/static/app.js":
            return 200, "application/javascript", b"var x = 1;", []
        if path.endswith(".gif"):
            return 200, "image/gif", GIF, []
        return 404, "text/plain", b"not found", []

    def paths(self):
        with self._lock:
            return [r["path"] for r in self.requests]


@contextlib.contextmanager
def site():
    s = Site()
    try:
        yield s
    finally:
        s.close()


@contextlib.contextmanager
def chromedriver():
    """A real chromedriver on a free loopback port; yields its address."""
    port = free_port()
    proc = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"chromedriver exited with {proc.returncode}"
            try:
                with urllib.request.urlopen(f"{url}/status", timeout=2) as r:
                    if json.load(r)["value"]["ready"]:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "chromedriver did not become ready"
            time.sleep(0.05)
        yield url
    finally:
        # Its own process group: chromium children it may have left go with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# Without MsgOutput: mite 2.11's pops the fields of `exception` messages before its collector
# writes them, which would leave nothing to compare.
PROCESSORS = "--message-processors=mite.logoutput:HttpStatsOutput"


def mite_env(**config):
    """The environment for a mite run: no MITE_* config from the caller, `config` as MITE_CONF_*."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MITE_CONF_", "MITE_EVAL_CONF_"))
    }
    env.pop("PYTHONPATH", None)
    env.update({f"MITE_CONF_{k}": v for k, v in config.items()})
    return env


def run_mite(mite, cwd, spec, config, *extra_args):
    """`mite scenario test <spec> <extra_args>` in `cwd`, `config` given as MITE_CONF_*."""
    return subprocess.run(
        [str(mite), "scenario", "test", spec, *extra_args],
        cwd=cwd,
        env=mite_env(**config),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def run_example(mite, example, cwd, spec, config, *extra_args):
    """Copies `examples/<example>` into `cwd` and runs `mite scenario test <spec>` there."""
    shutil.copy(EXAMPLES / example, cwd)
    return run_mite(mite, cwd, spec, config, *extra_args)


def parse_form(body):
    """The (name, value) pairs of an urlencoded request body."""
    return parse_qsl(body.decode(), keep_blank_values=True)


# Makes `library` look uninstalled to a mite run (first on PYTHONPATH, before site-packages).
_HIDE = """
import sys


class _Hidden:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == {library!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)


sys.meta_path.insert(0, _Hidden())
"""


def run_without(tmp_path, library, example, spec, command=None):
    """`mite scenario test` of an example (or `command`) with `library` hidden, as if its extra
    were not installed."""
    hide = tmp_path / "hide"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text(_HIDE.format(library=library))
    shutil.copy(EXAMPLES / example, tmp_path)
    env = mite_env()
    env["PYTHONPATH"] = str(hide)
    return subprocess.run(
        command or [str(OUR_MITE), "scenario", "test", spec],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def assert_one_line_error(proc):
    """Exit 1 (an unusable optional library, as every extra's MissingExtraError), no traceback,
    and exactly one `mite: error: ...` line, which is returned."""
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("mite:")]
    assert len(lines) == 1 and lines[0].startswith("mite: error: "), proc.stderr[-3000:]
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-3000:])
    return lines[0]


def collected(cwd):
    """The messages the collector wrote to `cwd/collector_data/current`."""
    data = (Path(cwd) / "collector_data" / "current").read_bytes()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=False)
    unpacker.feed(data)
    messages = list(unpacker)
    assert unpacker.tell() == len(data), "a partial frame at the end of the collector file"
    return messages


def journey_messages(messages):
    """The messages journeys sent (controller reports left out), in order."""
    return [m for m in messages if m.get("type") != "controller_report"]


def shape(message):
    """A message's field names in order, each with its value's type (floats and ints apart)."""
    return [(k, type(v).__name__) for k, v in message.items()]


def assert_same_shapes(ours, theirs):
    """Same message types in the same order, each with the same fields, order and value types."""
    assert [m["type"] for m in ours] == [m["type"] for m in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert shape(a) == shape(b), (a["type"], shape(a), shape(b))
        assert a["transaction"] == b["transaction"]
