"""Processes, sockets, mounts and counts for the fault campaign and the hardening tests: start a
`mite` component (ours or mite 2.11.0), feed it frames over ZeroMQ, read its `totals:` line."""

import atexit
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import zmq

REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
MITES = {"ours": Path(sys.executable).with_name("mite"), "ref": REF_VENV / "bin" / "mite"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_address():
    return f"tcp://127.0.0.1:{free_port()}"


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"waited {timeout} s for {what}")


# Every process started here that may still run; killed when the campaign ends by any means.
LIVE = set()
PR_SET_PDEATHSIG = 1


def _die_with_parent():  # runs in the child between fork and exec
    # SIGKILL when the campaign's process dies, even by SIGKILL (no handler of ours runs then).
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_all():
    """Kills every process the campaign started that is still running."""
    for proc in list(LIVE):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        LIVE.discard(proc)


def _stopped_by(signum, frame):
    # SystemExit unwinds the campaign's `finally` blocks (tmpfs mounts), then `atexit` kills.
    raise SystemExit(128 + signum)


def clean_up_on_exit():
    """Kill the campaign's components when it exits, is interrupted or is terminated."""
    atexit.register(kill_all)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stopped_by)


def popen(argv, **kwargs):
    """subprocess.Popen for a process the campaign owns: it dies with the campaign."""
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    LIVE.add(proc)
    return proc


class Component:
    """`mite ARGS` in `cwd`, stderr to a file; stopped with SIGINT (then SIGKILL) by `stop`."""

    def __init__(self, args, cwd, impl="ours", env=None):
        self.impl = impl
        self.log_path = Path(cwd) / f"{args[0]}-{impl}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        self.proc = popen(
            [str(MITES[impl]), *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, grace=10.0):
        """SIGINT, then SIGKILL after `grace`; returns the exit status (None if it was killed)."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def rss_kb(self):
        return _status(self.pid, "VmRSS")

    def threads(self):
        return _status(self.pid, "Threads")


def _status(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def totals(text):
    """The counts on the last `totals:` line of a log, as a dict of ints (None without one)."""
    lines = [line for line in text.splitlines() if "totals:" in line]
    if not lines:
        return None
    return {k: int(v) for k, v in re.findall(r"([A-Za-z_]\w*)=(\d+)", lines[-1].split("totals:")[1])}


def balanced(counts, outputs=1):
    """received = written + forwarded/outputs + ignored + every drop reason."""
    if counts is None:
        return False
    drops = sum(counts.get(k, 0) for k in ("malformed", "oversize", "refused", "unwritable"))
    passed = counts.get("written", 0) + counts.get("ignored", 0)
    if "outputs" in counts:
        passed = (counts.get("forwarded", 0) + counts.get("full", 0)) // max(outputs, 1)
    else:
        passed += counts.get("forwarded", 0) + counts.get("full", 0)
    return counts["received"] == passed + drops


class Pusher:
    """A PUSH socket that connects (or binds) to `address`."""

    def __init__(self, address, bind=False):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.LINGER, 3000)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        (self.sock.bind if bind else self.sock.connect)(address)

    def send(self, frames, timeout_ms=5000):
        """Sends the frames; returns how many were queued (a dead peer stops the rest)."""
        self.sock.setsockopt(zmq.SNDTIMEO, timeout_ms)
        for n, f in enumerate(frames):
            try:
                self.sock.send(f)
            except zmq.Again:
                return n
        return len(frames)

    def close(self):
        self.sock.close()
        self.ctx.term()


class Puller:
    def __init__(self, address, bind=True):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PULL)
        self.sock.setsockopt(zmq.LINGER, 0)
        (self.sock.bind if bind else self.sock.connect)(address)

    def drain(self, quiet=0.5):
        """Frames until none arrives for `quiet` seconds."""
        out = []
        while self.sock.poll(int(quiet * 1000)):
            out.append(self.sock.recv())
        return out

    def close(self):
        self.sock.close()
        self.ctx.term()


@contextlib.contextmanager
def tiny_disk(size="1m"):
    """A tmpfs of `size` mounted on a fresh folder (needs root): a disk that really fills up."""
    where = Path(tempfile.mkdtemp(prefix="mite-tiny-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def read_frames(path):
    """Every frame msgpack-python reads from a file, and whether it read to the end cleanly."""
    frames = []
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(Path(path).read_bytes())
    try:
        for obj in unpacker:
            frames.append(obj)
    except Exception:  # noqa: BLE001 - any failure means a tool stops reading here
        return frames, False
    return frames, unpacker.tell() == Path(path).stat().st_size
