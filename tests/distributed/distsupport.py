"""Harness for the distributed-mode suite: `mite <component>` processes, ZeroMQ peers, an HTTP target.

Which `mite` runs a component is chosen per component:

* ``"ours"``: the `mite` installed beside this interpreter (`.venv/bin/mite`);
* ``"ref"``: mite 2.11.0 from ``$MITE_REF_VENV`` (default ``~/.cache/mite-ref-venv``, made by
  ``make ref-venv``).

``MITE_DIST_UNDER_TEST=ref`` turns every "ours" into the reference, so the whole suite can be run
against mite 2.11.0 to show that its expectations are right. Behaviour the reference lacks is
marked with `beyond_reference` (skipped there, saying so) or `reference_bug` (a strict xfail there: the test
runs and must fail, because the reference's failure is the point).
"""

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgpack
import pytest
import zmq

# -- which mite ----------------------------------------------------------------------------------

REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
REF_MITE = REF_VENV / "bin" / "mite"
REF_PYTHON = REF_VENV / "bin" / "python"
OURS_MITE = Path(sys.executable).with_name("mite")
UNDER_TEST = os.environ.get("MITE_DIST_UNDER_TEST", "ours")
if UNDER_TEST not in ("ours", "ref"):  # pragma: no cover - a typo in the environment
    raise RuntimeError(f"MITE_DIST_UNDER_TEST must be 'ours' or 'ref', not {UNDER_TEST!r}")
REFERENCE_RUN = UNDER_TEST == "ref"
HAVE_REF = REF_MITE.exists()


def mite_for(impl):
    """The `mite` executable that runs a component of implementation `impl` ("ours" or "ref")."""
    if impl == "ref" or (impl == "ours" and REFERENCE_RUN):
        # `make test` installs the reference first: its absence is an installation bug, not a skip.
        assert HAVE_REF, f"the reference mite 2.11.0 is not at {REF_MITE}: run `make ref-venv`"
        return REF_MITE
    if impl == "ours":
        return OURS_MITE
    raise ValueError(f"impl must be 'ours' or 'ref', not {impl!r}")


def is_ref(impl):
    """True when a component of `impl` actually runs the reference."""
    return impl == "ref" or REFERENCE_RUN


def needs_ref(test):
    """Labels a test that runs the reference beside ours. A missing reference fails it (`mite_for`)."""
    return test


def beyond_reference(reason):
    """Marks a test of a feature mite 2.11.0 does not have: skipped when the reference is under test."""
    return pytest.mark.skipif(REFERENCE_RUN, reason=f"mite 2.11.0 has no such feature: {reason}")


def reference_bug(reason):
    """Marks a test that mite 2.11.0 fails because of a known bug: a strict xfail on the reference."""
    return pytest.mark.xfail(REFERENCE_RUN, reason=f"mite 2.11.0 bug: {reason}", strict=True)


def reference_may_fail(reason):
    """Marks a test the reference fails most of the time but not always (timing): non-strict xfail."""
    return pytest.mark.xfail(REFERENCE_RUN, reason=f"mite 2.11.0 bug: {reason}", strict=False)


# -- addresses -----------------------------------------------------------------------------------

_handed_out = set()


def free_port():
    """A loopback TCP port nobody listens on now and that this session has not handed out yet."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out and not 14300 <= port <= 14310:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free loopback port")


def free_address():
    return f"tcp://127.0.0.1:{free_port()}"


# -- msgpack as mite speaks it -------------------------------------------------------------------


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(raw):
    return msgpack.unpackb(raw, raw=False, use_list=False, strict_map_key=False)


def read_frames(path):
    """Every msgpack frame in a file, decoded as mite decodes them; fails on a trailing fragment."""
    data = Path(path).read_bytes()
    unpacker = msgpack.Unpacker(
        raw=False, use_list=False, strict_map_key=False, max_buffer_size=2**31 - 1
    )
    unpacker.feed(data)
    messages = list(unpacker)
    assert unpacker.tell() == len(data), (
        f"{path}: {len(data) - unpacker.tell()} bytes after the last whole frame"
    )
    return messages


def rolled_files(folder):
    """The collector's rolled files `START_END[_ID]_N` in `folder`, in the order they were rolled."""
    files = [p for p in Path(folder).iterdir() if re.fullmatch(r"\d+_\d+(_.+)?_\d+", p.name)]
    return sorted(files, key=lambda p: int(p.name.rsplit("_", 1)[1]))


def collector_files(folder):
    """Rolled files in order, then `current`."""
    folder = Path(folder)
    current = folder / "current"
    return rolled_files(folder) + ([current] if current.exists() else [])


def collected_messages(folder):
    """Every message in the collector's files, rolled first, in order."""
    out = []
    for path in collector_files(folder):
        out.extend(read_frames(path))
    return out


def of_type(messages, msg_type):
    return [m for m in messages if isinstance(m, dict) and m.get("type") == msg_type]


# -- waiting -------------------------------------------------------------------------------------


class ComponentDied(AssertionError):
    pass


def wait_for(predicate, timeout, what, watch=(), interval=0.05):
    """Polls `predicate` until it returns something true and returns that; fails after `timeout`
    seconds with `what`, or at once if a component in `watch` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for component in watch:
            component.assert_alive(f"while waiting for {what}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _tcp_queues(port):
    """(send queue, receive queue) bytes of every loopback TCP socket on `port`, from the kernel."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
                if port in (local, remote):
                    tx, rx = (int(q, 16) for q in fields[4].split(":"))
                    out.append((tx, rx))
    return out


def _socket_inodes(pid):
    inodes = set()
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    return inodes


def connected_to(pid, port):
    """True when process `pid` has an established TCP connection to loopback `port`."""
    inodes = _socket_inodes(pid)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                remote = int(fields[2].rsplit(":", 1)[1], 16)
                if remote == port and fields[3] == "01" and fields[9] in inodes:
                    return True
    return False


def wait_connected(component, address, timeout=60.0):
    """Waits until `component` has connected to the bound loopback `address`: it is past its
    start-up (imports) and its socket is up."""
    port = int(address.rsplit(":", 1)[1])
    wait_for(lambda: connected_to(component.pid, port), timeout,
             f"{component.label} to connect to {address}", [component])


def wait_started(component, timeout=60.0):
    """Waits until `component` has started its ZeroMQ threads (3 threads or more), i.e. it is past
    its imports, for tests that arrange a start order before there is anything to connect to."""
    def threads():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            return len(os.listdir(f"/proc/{component.pid}/task")) >= 3
        return False

    wait_for(threads, timeout, f"{component.label} to start", [component])


# What libzmq 4.3 sends on a PUSH connection before the first frame: the 64-byte ZMTP greeting
# and a READY command naming the socket type.
_ZMTP_HANDSHAKE = 64 + 28


def _bytes_acked(port):
    """bytes_acked of each established TCP connection whose local port is `port` (from `ss`)."""
    out = subprocess.run(["ss", "-tinH", "state", "established", f"sport = :{port}"],
                         capture_output=True, text=True, check=True).stdout
    return [int(n) for n in re.findall(r"bytes_acked:(\d+)", out)]


def wait_delivered(peer, timeout=30.0, watch=()):
    """Waits until every frame sent through `peer` (a bound PUSH with one consumer connected) has
    been acknowledged by the consumer's kernel and read out of its kernel queue by the consumer's
    ZeroMQ thread: it is in the consumer's socket queue, so a `recv` there gets it."""
    port = int(peer.address.rsplit(":", 1)[1])
    want = _ZMTP_HANDSHAKE + peer.wire_bytes

    def delivered():
        acked = _bytes_acked(port)
        assert all(a <= want for a in acked), (acked, want)  # a wrong byte count: a test bug
        return acked == [want] and all(q == (0, 0) for q in _tcp_queues(port))

    wait_for(delivered, timeout, f"the frames sent to {peer.address} to be delivered", watch)


# -- processes -----------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():  # runs in the child between fork and exec
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _log_tail(path, limit=6000):
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return "(no file)"
    return text if len(text) <= limit else "...\n" + text[-limit:]


class Component:
    """One `mite <name> ...` process, its stdout and stderr captured in files."""

    def __init__(self, deployment, name, args, impl, env, log_level, label, argv=None):
        self.name = name
        self.impl = impl
        self.is_ref = impl is not None and is_ref(impl)
        self.label = label
        if argv is None:
            argv = [str(mite_for(impl)), f"--log-level={log_level}", name, *map(str, args)]
        self.argv = [str(a) for a in argv]
        logs = deployment.dir / "logs"
        logs.mkdir(exist_ok=True)
        self.stdout_path = logs / f"{label}.stdout"
        self.stderr_path = logs / f"{label}.stderr"
        full_env = deployment.env.copy()
        full_env.update(env or {})
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=deployment.dir,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=_die_with_parent,
            )
        self.started = time.monotonic()
        self.expected_exit = False

    @property
    def kind(self):
        return "ref" if self.is_ref else "ours" if self.impl else "program"

    @property
    def pid(self):
        return self.proc.pid

    @property
    def returncode(self):
        return self.proc.poll()

    def alive(self):
        return self.proc.poll() is None

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def describe(self):
        state = "running" if self.alive() else f"exited {self.proc.returncode}"
        return (
            f"--- {self.label} [{self.kind}] pid {self.pid} {state}\n"
            f"    argv: {' '.join(self.argv)}\n"
            f"--- {self.label} stderr:\n{_log_tail(self.stderr_path)}\n"
            f"--- {self.label} stdout:\n{_log_tail(self.stdout_path, 2000)}\n"
        )

    def assert_alive(self, when=""):
        if not self.alive():
            raise ComponentDied(f"{self.label} exited {self.proc.returncode} {when}\n{self.describe()}")

    def signal(self, sig):
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def kill(self):
        self.expected_exit = True
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout):
        """Waits for the process to exit by itself; its exit status, or an AssertionError."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.label} still running after {timeout} s\n{self.describe()}"
            ) from None

    def stop(self, grace=3.0):
        """SIGINT, then SIGTERM, then SIGKILL, each after `grace` seconds; returns the exit status."""
        stop_all([self], grace)
        return self.proc.returncode


# mite 2.11.0's components never exit on SIGINT (the interpreter waits forever for the executor
# thread blocked in a ZeroMQ recv), so the reference gets only a moment before SIGTERM.
REF_SIGINT_GRACE = 0.5


def stop_all(components, grace=3.0):
    """Stops every component at once: SIGINT, SIGTERM, SIGKILL with `grace` seconds between."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        running = [c for c in components if c.alive()]
        if not running:
            return
        for c in running:
            c.expected_exit = True
            c.signal(sig)
        start = time.monotonic()
        for c in running:
            wait = REF_SIGINT_GRACE if c.is_ref and sig == signal.SIGINT else grace
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(max(0.0, start + wait - time.monotonic()))


def totals(text):
    """The key=value counts on the last `totals:` line of a component's log, as a dict of ints."""
    lines = [line for line in text.splitlines() if "totals:" in line]
    if not lines:
        return None
    tail = lines[-1].split("totals:", 1)[1]
    return {k: int(v) for k, v in re.findall(r"([A-Za-z_][\w.-]*)=(\d+)", tail)}


def stop_for_totals(component, timeout=20.0):
    """SIGINT, waits for the exit, and returns the counts of its `totals:` line (fails if none)."""
    component.expected_exit = True
    component.signal(signal.SIGINT)
    component.wait(timeout)
    counts = totals(component.stderr())
    assert counts is not None, f"no `totals:` line at shutdown\n{component.describe()}"
    return counts


class Deployment:
    """The components of one test, run in its scratch folder, stopped at the end whatever happens."""

    def __init__(self, folder):
        self.dir = Path(folder)
        self.components = []
        self.zmq = zmq.Context()
        self.peers = []
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MITE_CONF_", "MITE_EVAL_CONF_", "MITE_DEBUG_"))
            and k not in ("PYTHONPATH", "MITE_LOGGING_URL", "MITE_HTTP_HISTOGRAM_BUCKETS",
                          "MITE_DNS_HISTOGRAM_BUCKETS")
        }
        self.env["PYTHONUNBUFFERED"] = "1"
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        self._labels = {}

    def start(self, name, *args, impl="ours", env=None, log_level="INFO", label=None):
        """Starts `mite --log-level=LEVEL NAME ARGS...`; returns the Component."""
        if label is None:
            n = self._labels.get(name, 0) + 1
            self._labels[name] = n
            label = name if n == 1 else f"{name}{n}"
        component = Component(self, name, args, impl, env, log_level, label)
        self.components.append(component)
        return component

    def start_program(self, label, argv, env=None):
        """Starts another program (not mite) the same way, e.g. a real Prometheus."""
        component = Component(self, label, (), None, env, None, label, argv=argv)
        self.components.append(component)
        return component

    def write_module(self, name, source):
        path = self.dir / f"{name}.py"
        path.write_text(textwrap.dedent(source).lstrip())
        return path

    def assert_alive(self, *components):
        for c in components or self.components:
            if not c.expected_exit:
                c.assert_alive()

    def logs(self):
        return "\n".join(c.describe() for c in self.components)

    # peers

    def peer(self, kind, address, bind, watch=(), rcvhwm=0):
        p = Peer(self.zmq, kind, address, bind, watch, rcvhwm=rcvhwm)
        self.peers.append(p)
        return p

    def push_bind(self, address, watch=()):
        return self.peer(zmq.PUSH, address, True, watch)

    def push_connect(self, address, watch=()):
        return self.peer(zmq.PUSH, address, False, watch)

    def pull_bind(self, address):
        return self.peer(zmq.PULL, address, True)

    def pull_connect(self, address, rcvhwm=0):
        """`rcvhwm` > 0 makes a consumer that holds few frames until it reads them."""
        return self.peer(zmq.PULL, address, False, rcvhwm=rcvhwm)

    def req_connect(self, address, watch=()):
        return self.peer(zmq.REQ, address, False, watch)

    def close(self):
        stop_all(self.components)
        for p in self.peers:
            p.close()
        self.zmq.term()


class Peer:
    """A pyzmq socket speaking mite's msgpack. A send waits (up to `send_timeout` seconds) for
    someone to take the frame, and fails at once if a component in `watch` has exited."""

    def __init__(self, ctx, kind, address, bind, watch=(), send_timeout=15.0, rcvhwm=0):
        self.sock = ctx.socket(kind)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDTIMEO, 200)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvhwm:  # a slow consumer: little queued on our side, so the sender's queue fills
            self.sock.setsockopt(zmq.RCVBUF, 4096)
        self.address = address
        self.watch = list(watch)
        self.send_timeout = send_timeout
        (self.sock.bind if bind else self.sock.connect)(address)
        self.sent = 0
        self.wire_bytes = 0

    def send_raw(self, frame):
        deadline = time.monotonic() + self.send_timeout
        while True:
            try:
                self.sock.send(frame, copy=len(frame) < 65536)
                break
            except zmq.Again:
                for c in self.watch:
                    c.assert_alive(f"while sending to {self.address}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"nobody took a frame sent to {self.address}") from None
        self.sent += 1
        # ZMTP 3 frame header: flags and a 1-byte size, or flags and an 8-byte size.
        self.wire_bytes += len(frame) + (2 if len(frame) < 256 else 9)

    def send(self, obj):
        self.send_raw(pack(obj))

    def recv_raw(self, timeout):
        """The next frame, or None after `timeout` seconds."""
        if self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            return self.sock.recv()
        return None

    def recv(self, timeout):
        raw = self.recv_raw(timeout)
        return None if raw is None else unpack(raw)

    def request(self, obj, timeout=10.0):
        """REQ: sends `obj`, returns the decoded reply (AssertionError after `timeout` seconds)."""
        self.send(obj)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.recv_raw(0.1)
            if reply is not None:
                return unpack(reply)
            for c in self.watch:
                c.assert_alive(f"while waiting for a reply from {self.address}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply from {self.address} within {timeout} s")

    def drain_raw(self, quiet=0.5, limit=60.0):
        """Every frame until none arrives for `quiet` seconds (at most `limit` seconds in all)."""
        frames = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            raw = self.recv_raw(quiet)
            if raw is None:
                break
            frames.append(raw)
        return frames

    def close(self):
        self.sock.close(0)


# -- the pipeline's sync probes ------------------------------------------------------------------

PROBE_TYPE = "dist_test_probe"


def probe(n, pad=0):
    """A message no stat matches, for checking that a path through the pipeline is connected."""
    msg = {"type": PROBE_TYPE, "n": n}
    if pad:
        msg["pad"] = "p" * pad
    return msg


def is_probe(msg):
    return isinstance(msg, dict) and msg.get("type") == PROBE_TYPE


def sync_outputs(push, pulls, timeout=20.0, watch=()):
    """Sends probes through `push` until every peer in `pulls` has received one, then drains the
    probes still in flight. For a duplicator, whose outputs drop frames until someone connects.
    Returns (probes sent, [probes received by each of `pulls`])."""
    seen = [0] * len(pulls)
    deadline = time.monotonic() + timeout
    n = 0
    while not all(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"no probe came out on outputs {[i for i, s in enumerate(seen) if not s]}")
        for c in watch:
            c.assert_alive("while syncing")
        push.send(probe(n))
        n += 1
        for i, pull in enumerate(pulls):
            while (raw := pull.recv_raw(0.05)) is not None:
                assert is_probe(unpack(raw)), unpack(raw)
                seen[i] += 1
    for i, pull in enumerate(pulls):
        for raw in pull.drain_raw(quiet=0.3):
            assert is_probe(unpack(raw)), unpack(raw)
            seen[i] += 1
    return n, seen


# -- the exporter --------------------------------------------------------------------------------


def scrape(port, timeout=2.0):
    """(status, content type, body text) of GET /metrics, or None if nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{(.*)\})?\s+(\S+)$")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] for every sample line of a /metrics body."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


def metric_total(text, name, **match):
    """The sum of a metric's samples whose labels include `match`."""
    return sum(
        v
        for n, labels, v in parse_metrics(text)
        if n == name and all(labels.get(k) == want for k, want in match.items())
    )


def metric_samples(text, name):
    return [(labels, v) for n, labels, v in parse_metrics(text) if n == name]


def wait_for_web(port, timeout=20.0, watch=()):
    return wait_for(lambda: scrape(port), timeout, f"an HTTP answer on 127.0.0.1:{port}", watch)


def settled_scrape(port, name, quiet=1.0, timeout=20.0, watch=()):
    """The /metrics body once the total of `name` has stayed the same for `quiet` seconds."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while True:
        got = scrape(port)
        body = got[2] if got else None
        total = metric_total(body, name) if body is not None else None
        now = time.monotonic()
        if total != last:
            last, since = total, now
        elif body is not None and now - since >= quiet:
            return body
        for c in watch:
            c.assert_alive("while scraping")
        if now > deadline:
            raise AssertionError(f"{name} never settled; last body:\n{body}")
        time.sleep(0.1)


# -- stat dumps ----------------------------------------------------------------------------------


def merge_dumps(dumps):
    """What an exporter makes of a series of stats dumps: {name: merged stat}. Counters add up,
    gauges keep the last value per label tuple, histograms add counts, sums and bins."""
    merged = {}
    for dump in dumps:
        for stat in dump:
            name = stat["name"]
            kind = stat["type"]
            m = merged.setdefault(name, {"type": kind, "labels": tuple(stat["labels"])})
            assert m["type"] == kind and m["labels"] == tuple(stat["labels"]), (m, stat)
            if kind == "Counter":
                metrics = m.setdefault("metrics", {})
                for k, v in stat["metrics"].items():
                    metrics[k] = metrics.get(k, 0) + v
            elif kind == "Gauge":
                m.setdefault("metrics", {}).update(stat["metrics"])
            elif kind == "Histogram":
                m["bins"] = tuple(stat["bins"])
                for field in ("sums", "total_counts"):
                    d = m.setdefault(field, {})
                    for k, v in stat[field].items():
                        d[k] = d.get(k, 0) + v
                bc = m.setdefault("bin_counts", {})
                for k, v in stat["bin_counts"].items():
                    old = bc.get(k, (0,) * len(v))
                    bc[k] = tuple(a + b for a, b in zip(old, v, strict=True))
            else:
                raise AssertionError(f"unknown stat type {kind!r}")
    return merged


# -- HTTP target ---------------------------------------------------------------------------------


class _TargetHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.server.count()


class HttpTarget:
    """A loopback HTTP/1.1 server answering every GET with 200 "ok"; counts what it served."""

    def __init__(self):
        self._lock = threading.Lock()
        self.served = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _TargetHandler)
        self.server.daemon_threads = True
        self.server.count = self._count
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _count(self):
        with self._lock:
            self.served += 1

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# -- scenarios -----------------------------------------------------------------------------------

SCENARIO = """
    import asyncio

    from mite.scenario import StopVolumeModel
    from mite_http import mite_http

    URL = {url!r}
    DURATION = {duration!r}
    CONCURRENCY = {concurrency!r}
    PAUSE = {pause!r}


    def volume(start, end):
        if start >= DURATION:
            raise StopVolumeModel
        return CONCURRENCY


    @mite_http
    async def journey(ctx):
        async with ctx.transaction("get"):
            await ctx.http.get(URL)
        await asyncio.sleep(PAUSE)


    def scenario():
        return [["journeys:journey", None, volume]]
"""


def write_scenario(deployment, url, duration=3, concurrency=4, pause=0.05):
    """journeys.py: a `scenario` of one @mite_http journey (a GET of `url` in transaction "get",
    then a pause), `concurrency` at a time, removed after `duration` seconds."""
    deployment.write_module(
        "journeys",
        SCENARIO.format(url=url, duration=duration, concurrency=concurrency, pause=pause),
    )
    return "journeys:scenario"


def json_line(obj):
    """A message as mite 2.11's collector writes it with --collector-use-json."""
    return json.dumps(obj).encode() + b"\n"


# -- the reference's extra stats -----------------------------------------------------------------

CORE_STAT_PROCESSORS = ("mite", "mite_http")
_extra_names = None


def reference_extra_stat_names():
    """Names of the stats mite 2.11.0 registers from entry points other than `mite` and
    `mite_http` (mite_finagle, mite_kafka, mite_selenium; ours ships the same)."""
    global _extra_names
    if _extra_names is None:
        code = (
            "import importlib.metadata as m, json; print(json.dumps(sorted(s.name "
            "for ep in m.entry_points(group='mite_stats') "
            f"if ep.name not in {CORE_STAT_PROCESSORS!r} for s in ep.load())))"
        )
        out = subprocess.run(
            [str(REF_PYTHON), "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        _extra_names = frozenset(json.loads(out.stdout))
    return _extra_names


def without_reference_extras(dump):
    extras = reference_extra_stat_names()
    return [stat for stat in dump if stat["name"] not in extras]


# -- a whole deployment --------------------------------------------------------------------------

PIPELINE_PROBE_TEST = "dist_test_probe"
FLUSH_TYPE = "dist_test_flush"


def pipeline_probe(n):
    """A txn of its own test (so stats counts it under a label nobody else uses), padded past the
    reference collector's 8 KiB write buffer so that it reaches the file at once."""
    return {"type": "txn", "test": PIPELINE_PROBE_TEST, "journey": "probe", "transaction": "probe",
            "had_error": False, "n": n, "pad": "p" * 9000}


def is_test_traffic(msg):
    return isinstance(msg, dict) and (
        msg.get("test") == PIPELINE_PROBE_TEST or msg.get("type") in (PROBE_TYPE, FLUSH_TYPE)
    )


def whole_frames(path):
    """The whole frames at the start of a file that may still be being written."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    unpacker = msgpack.Unpacker(raw=False, use_list=False, strict_map_key=False,
                                max_buffer_size=2**31 - 1)
    unpacker.feed(data)
    out = []
    with contextlib.suppress(Exception):
        out.extend(unpacker)
    return out


class Pipeline:
    """duplicator -> (stats -> prometheus_exporter, collector), each of the given implementation,
    on fresh loopback addresses; `message` is where runners and the controller send."""

    def __init__(self, deployment, duplicator="ours", stats="ours", collector="ours",
                 exporter="ours", collector_args=(), start=True):
        self.dep = deployment
        self.impls = {"duplicator": duplicator, "stats": stats, "collector": collector,
                      "exporter": exporter}
        self.message = free_address()
        self.to_stats = free_address()
        self.to_collector = free_address()
        self.stats_out = free_address()
        self.web_port = free_port()
        self.collector_dir = deployment.dir / "collector_data"
        self.collector_args = collector_args
        self.exporter = self.stats = self.collector = self.duplicator = None
        self.inject = None
        if start:
            self.start_exporter()
            self.start_stats()
            self.start_collector()
            self.start_duplicator()

    def start_exporter(self):
        self.exporter = self.dep.start(
            "prometheus_exporter", f"--stats-out-socket={self.stats_out}",
            f"--web-address=127.0.0.1:{self.web_port}", impl=self.impls["exporter"])

    def start_stats(self):
        self.stats = self.dep.start(
            "stats", f"--stats-in-socket={self.to_stats}", f"--stats-out-socket={self.stats_out}",
            impl=self.impls["stats"])

    def start_collector(self):
        self.collector = self.dep.start(
            "collector", f"--collector-socket={self.to_collector}",
            f"--collector-dir={self.collector_dir.name}", *self.collector_args,
            impl=self.impls["collector"])

    def start_duplicator(self):
        self.duplicator = self.dep.start(
            "duplicator", f"--message-socket={self.message}", self.to_stats, self.to_collector,
            impl=self.impls["duplicator"])
        self.inject = self.dep.push_connect(self.message, watch=[self.duplicator])

    @property
    def components(self):
        return [c for c in (self.exporter, self.stats, self.collector, self.duplicator) if c]

    def body(self):
        got = scrape(self.web_port)
        return got[2] if got else None

    def wait_ready(self, timeout=40.0):
        """Sends probes into the duplicator until one has come out of the exporter and one is in
        the collector's file: every connection is up (the duplicator drops what it cannot send)."""
        deadline = time.monotonic() + timeout
        n = 0
        while True:
            self.inject.send(pipeline_probe(n))
            n += 1
            time.sleep(0.2)
            body = self.body() or ""
            exported = f'test="{PIPELINE_PROBE_TEST}"' in body
            collected = any(
                is_test_traffic(m) for m in whole_frames(self.collector_dir / "current")
            )
            if exported and collected:
                return n
            self.dep.assert_alive(*self.components)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"pipeline not ready after {timeout} s: exporter has a probe: {exported}, "
                    f"collector has one: {collected}\n/metrics:\n{body}"
                )

    def settled(self, name="mite_http_response_total", quiet=1.5, timeout=30.0):
        return settled_scrape(self.web_port, name, quiet, timeout, watch=[self.exporter])

    def exported(self, served, timeout=60.0):
        """The /metrics body once it counts `served` responses. Our stats loses nothing, so that
        is the event to wait for (a wrong count times out, naming the last one); the reference's
        stats loses the end of a test, so for it the count is read once it has settled."""
        if self.stats.is_ref:
            return self.settled()
        last = []

        def counted():
            body = self.body()
            last[:] = [body]
            ok = body is not None and metric_total(body, "mite_http_response_total") == served
            return body if ok else None

        try:
            return wait_for(counted, timeout, f"{served} responses in /metrics",
                            [self.exporter, self.stats])
        except AssertionError as e:
            raise AssertionError(f"{e}; last /metrics:\n{last and last[0]}") from None

    def collected(self):
        """Every message the collector wrote, test traffic left out. Ours is stopped (SIGINT) and
        must have written everything by then; the reference, which loses its buffer when it
        stops, gets two frames bigger than that buffer through the duplicator instead, and is
        read once the second one is in its file. Call after reading the exporter: the flush
        frames also reach stats."""
        if self.collector.is_ref:
            self.inject.send({"type": FLUSH_TYPE, "n": 1, "pad": "f" * 65536})
            self.inject.send({"type": FLUSH_TYPE, "n": 2, "pad": "f" * 65536})
            wait_for(
                lambda: any(
                    isinstance(m, dict) and m.get("type") == FLUSH_TYPE and m.get("n") == 2
                    for m in whole_frames(self.collector_dir / "current")
                ),
                20, "the flush frames in the collector's file", [self.collector],
            )
        else:
            self.collector.signal(signal.SIGINT)
            self.collector.wait(15)
        self.all_collected = collected_messages(self.collector_dir)
        return [m for m in self.all_collected if not is_test_traffic(m)]


class Control:
    """A controller and its runners, sending to `message`."""

    def __init__(self, deployment, scenario_spec, message, controller="ours",
                 runners=("ours", "ours"), controller_args=(), runner_args=(), start=True,
                 runner_env=None):
        self.dep = deployment
        self.spec = scenario_spec
        self.message = message
        self.address = free_address()
        self.impl = controller
        self.runner_impls = runners
        self.controller_args = controller_args
        self.runner_args = runner_args
        self.runner_env = runner_env
        self.controller = None
        self.runners = []
        if start:
            self.start_controller()
            self.start_runners()

    def start_controller(self):
        self.controller = self.dep.start(
            "controller", self.spec, f"--message-socket={self.message}",
            f"--controller-socket={self.address}", *self.controller_args, impl=self.impl)

    def start_runners(self):
        for impl in self.runner_impls:
            self.runners.append(self.dep.start(
                "runner", f"--message-socket={self.message}",
                f"--controller-socket={self.address}", *self.runner_args, impl=impl,
                env=self.runner_env))

    def wait_finished(self, timeout=60.0):
        """Waits for the controller and every runner to exit by themselves; all must exit 0."""
        deadline = time.monotonic() + timeout
        for c in [self.controller, *self.runners]:
            rc = c.wait(max(1.0, deadline - time.monotonic()))
            assert rc == 0, f"{c.label} exited {rc}\n{c.describe()}"
