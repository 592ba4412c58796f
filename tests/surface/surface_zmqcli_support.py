"""Helpers for the mite.zmq / mite.cli surface tests: ports, processes, waiting."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import msgpack

PYTHON = sys.executable
OURS_MITE = str(Path(sys.executable).with_name("mite"))
REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
REF_PYTHON = REF_VENV / "bin" / "python"
TIMEOUT = 30

_handed_out = set()


def free_address():
    """A loopback tcp:// address nobody listens on, not handed out before in this session."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out and not 14300 <= port <= 14310:
            _handed_out.add(port)
            return f"tcp://127.0.0.1:{port}"
    raise RuntimeError("no free loopback port")


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(raw):
    return msgpack.unpackb(raw, raw=False, use_list=False, strict_map_key=False)


def read_frames(path):
    unpacker = msgpack.Unpacker(raw=False, use_list=False, strict_map_key=False)
    unpacker.feed(Path(path).read_bytes())
    return list(unpacker)


def wait_for(predicate, what, timeout=TIMEOUT, procs=()):
    """Polls `predicate` until it returns something true; fails after `timeout` seconds or as
    soon as one of `procs` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args} exited ({proc.returncode}) while waiting for {what}:\n{proc.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def write_module(folder, name, source):
    path = Path(folder) / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


class Proc(subprocess.Popen):
    """A child process whose stdout and stderr go to files in `folder`."""

    def __init__(self, argv, folder, label, env=None):
        self.out_path = Path(folder) / f"{label}.out"
        self.err_path = Path(folder) / f"{label}.err"
        env = dict(os.environ if env is None else env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            super().__init__(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    def output(self):
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGINT, timeout=TIMEOUT):
        """Sends `sig`, waits for the exit and returns the exit status (kills after `timeout`)."""
        if self.poll() is None:
            self.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()
            raise AssertionError(f"{self.args} did not exit after {sig!r}:\n{self.output()}") from None


class Procs:
    """Every process a test starts; all killed at the end."""

    def __init__(self, folder):
        self.folder = folder
        self.started = []

    def start(self, argv, label, env=None):
        proc = Proc([str(a) for a in argv], self.folder, label, env)
        self.started.append(proc)
        return proc

    def mite(self, *args, label, env=None):
        return self.start([OURS_MITE, *args], label, env)

    def python(self, source, label, python=PYTHON, env=None):
        script = write_module(self.folder, f"run_{label}", source)
        return self.start([python, str(script)], label, env)

    def close(self):
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class Feeder:
    """Sends on a daemon thread, so a peer that died fails the test (through `wait_for` watching
    its process) instead of leaving it blocked in a send to nobody."""

    def __init__(self, sender, messages=(), forever=None):
        self.sender = sender
        self.sent = 0
        self.done = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._feed, args=(list(messages), forever), daemon=True)
        self.thread.start()

    def _feed(self, messages, forever):
        for msg in messages:
            self.sender.send(msg)
            self.sent += 1
        while forever is not None and not self.stopping.is_set():
            self.sender.send(forever)
            self.sent += 1
            time.sleep(0.02)
        self.done.set()

    def wait(self, procs=()):
        wait_for(self.done.is_set, "the messages to be queued", procs=procs)

    def close(self):
        """Stops sending and closes the sender (left open if a send is still blocked)."""
        self.stopping.set()
        self.thread.join(5)
        if not self.thread.is_alive():
            self.sender.close(0)
