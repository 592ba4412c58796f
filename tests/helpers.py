"""Shared helpers for the suites that drive the real `mite` command in a scratch folder."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgpack

# MITE_UNDER_TEST points the command-line suites at another `mite` (e.g. the reference 2.11.0,
# to see which expectations it meets); by default, the one installed beside this interpreter.
MITE = Path(os.environ.get("MITE_UNDER_TEST") or Path(sys.executable).with_name("mite"))
if not MITE.exists():  # pragma: no cover - only outside a virtualenv
    MITE = Path(shutil.which("mite") or "mite")

HELP_TXT = Path(__file__).resolve().parent.parent / "src" / "cli" / "help.txt"
# mite 2.11.0 where `make ref-venv` puts it (the Makefile exports MITE_REF_VENV).
REFERENCE_MITE = (
    Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv") / "bin" / "mite"
)

# Every message a context sends ends with these keys, in this order (mite 2.11's `Context.send`).
ID_KEYS = ("test", "runner_id", "journey", "context_id", "scenario_id", "scenario_data_id")
TAIL_KEYS = ("type", "time", *ID_KEYS, "transaction", "transaction_id")

RUN_TIMEOUT = 60


def clean_env(**extra):
    """The environment without any MITE_* config leaking in from the caller, plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MITE_CONF_", "MITE_EVAL_CONF_"))
    }
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def write_module(folder, name, source):
    """Writes `folder/name.py` from an indented source string; returns its path."""
    path = Path(folder) / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def run_mite(args, cwd, env=None, timeout=RUN_TIMEOUT):
    """Runs `mite ARGS` in `cwd` to the end; returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [str(MITE), *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_frames(path):
    """Every msgpack frame in a file, decoded as mite decodes them; fails on a trailing fragment."""
    data = Path(path).read_bytes()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=False)
    unpacker.feed(data)
    messages = list(unpacker)
    assert unpacker.tell() == len(data), (
        f"{path}: {len(data) - unpacker.tell()} bytes after the last whole frame"
    )
    return messages


def collected(cwd, folder="collector_data"):
    """The messages the collector wrote to `cwd/folder/current`."""
    return read_frames(Path(cwd) / folder / "current")


def of_type(messages, msg_type):
    return [m for m in messages if m.get("type") == msg_type]


def mite_lines(stderr):
    """The lines `mite` itself wrote to stderr (`mite: ...`), log records excluded."""
    return [line for line in stderr.splitlines() if line.startswith("mite:")]


def assert_clean_failure(proc, code, *needles):
    """Exit `code`, exactly one `mite: error: ...` line naming every needle, and no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = mite_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("mite: error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def wait_for(predicate, timeout=20.0, interval=0.05):
    """Polls `predicate` until it is true; False if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# -- kernel socket state: "the frames have been delivered" without sleeping ----------------------

# What libzmq 4.3 sends on a PUSH connection before the first frame: the 64-byte ZMTP greeting
# and a READY command naming the socket type.
ZMTP_HANDSHAKE = 64 + 28


def zmtp_wire_bytes(frame):
    """Bytes a frame takes on a ZMTP 3 connection: flags and a 1- or 8-byte size, then the data."""
    return len(frame) + (2 if len(frame) < 256 else 9)


def tcp_queues(port):
    """(send queue, receive queue) bytes of every loopback TCP socket on `port`, from the kernel."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = list(f)[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if port in (local, remote):
                tx, rx = (int(q, 16) for q in fields[4].split(":"))
                out.append((tx, rx))
    return out


def bytes_acked(port):
    """bytes_acked of each established TCP connection whose local port is `port` (from `ss`)."""
    out = subprocess.run(["ss", "-tinH", "state", "established", f"sport = :{port}"],
                         capture_output=True, text=True, check=True).stdout
    return [int(n) for n in re.findall(r"bytes_acked:(\d+)", out)]


def wait_push_delivered(port, wire_bytes, timeout=30.0, check=lambda: None):
    """Waits until a PUSH bound at loopback `port` (one consumer connected) has had `wire_bytes`
    of frames (`zmtp_wire_bytes` each) acknowledged by the consumer's kernel, and the consumer's
    ZeroMQ thread has read them out of its kernel queue: they are in its socket's queue, so its
    next `recv` gets them. `check` runs each round (e.g. to fail at once if the consumer died)."""
    want = ZMTP_HANDSHAKE + wire_bytes
    deadline = time.monotonic() + timeout
    while True:
        acked = bytes_acked(port)
        assert all(a <= want for a in acked), (acked, want)  # a wrong byte count: a test bug
        if acked == [want] and all(q == (0, 0) for q in tcp_queues(port)):
            return
        check()
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s, {acked} of {want} bytes sent to port {port} "
                                 "were acknowledged")
        time.sleep(0.02)


class CountingOk(BaseHTTPRequestHandler):
    """Answers every GET with 200 "ok" and counts it in `server.count`."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with self.server.lock:
            self.server.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextmanager
def http_server(handler=CountingOk):
    """A threaded HTTP server on a free loopback port, serving until the block ends; `server.count`
    and `server.lock` are there for handlers that count."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.count = 0
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
