"""What the kafka and finagle tests share: running `mite` (ours, or mite 2.11.0 from its venv) in
a scratch folder, reading what it collected, comparing message shapes, and feeding `mite stats`."""

import importlib.metadata
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import zmq

OURS = Path(sys.executable).with_name("mite")
REF_VENV = Path(os.environ.get("MITE_REF_VENV") or Path.home() / ".cache" / "mite-ref-venv")
REFERENCE = REF_VENV / "bin" / "mite"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT = 120
PROBE = {"type": "kf_probe"}  # a message no stat matches


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def reference():
    assert REFERENCE.exists(), f"mite 2.11.0 is not installed at {REFERENCE} (make ref-venv)"
    return REFERENCE


def env_for(pythonpath=(), **config):
    """The environment with no MITE_* config leaking in, `config` as MITE_CONF_*, and
    `pythonpath` folders importable."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MITE_CONF_", "MITE_EVAL_CONF_"))
    }
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    env.update({f"MITE_CONF_{k}": str(v) for k, v in config.items()})
    return env


def run_mite(mite, args, cwd, env, timeout=RUN_TIMEOUT):
    return subprocess.run(
        [str(mite), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_example(name, folder):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / name, folder)
    return folder


def read_frames(path):
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=False)
    unpacker.feed(Path(path).read_bytes())
    return list(unpacker)


def collected(cwd):
    return read_frames(Path(cwd) / "collector_data" / "current")


def of_type(messages, msg_type):
    return [m for m in messages if m.get("type") == msg_type]


def shape(message):
    """A message's field names, in order, each with its value's type name."""
    return tuple((k, type(v).__name__) for k, v in message.items())


def shapes(messages, types):
    """{type: the set of shapes its messages have}, for the message types in `types`."""
    found = {}
    for m in messages:
        if m.get("type") in types:
            found.setdefault(m["type"], set()).add(shape(m))
    return found


def stats_entry_points(folder, names_targets):
    """A folder to put on PYTHONPATH that registers `mite_stats` entry points `names_targets`
    ({name: "module:attr"}) which this environment does not already register."""
    registered = {ep.name for ep in importlib.metadata.entry_points(group="mite_stats")}
    missing = {n: t for n, t in names_targets.items() if n not in registered}
    info = Path(folder) / "kf_stats_entry_points-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: kf-stats-entry-points\nVersion: 0\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in missing.items())
    (info / "entry_points.txt").write_text(f"[mite_stats]\n{lines}")
    return folder


class StatsRun:
    """`mite stats` between a bound PUSH (its input) and a bound PULL (where its dumps arrive)."""

    def __init__(self, mite, include, env, cwd):
        self.context = zmq.Context()
        self.push = self.context.socket(zmq.PUSH)
        self.pull = self.context.socket(zmq.PULL)
        in_port, out_port = free_port(), free_port()
        self.push.bind(f"tcp://127.0.0.1:{in_port}")
        self.pull.bind(f"tcp://127.0.0.1:{out_port}")
        self.log = open(Path(cwd) / f"stats-{Path(mite).parent.parent.name}.log", "w+")
        self.proc = subprocess.Popen(
            [str(mite), "stats", f"--stats-in-socket=tcp://127.0.0.1:{in_port}",
             f"--stats-out-socket=tcp://127.0.0.1:{out_port}", f"--stats-include-processors={include}"],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.dumps = []

    def _receive(self, timeout_ms):
        if self.pull.poll(timeout_ms):
            raw = self.pull.recv()
            self.dumps.append(msgpack.unpackb(raw, raw=False, use_list=False, strict_map_key=False))
            return True
        return False

    def send(self, message):
        self.push.send(msgpack.packb(message, use_bin_type=True))

    def feed_until(self, messages, done, timeout=30.0):
        """Waits for a first dump (mite 2.11.0 dumps only when a message arrives), feeds
        `messages`, then keeps sending probes until `done(merged dumps)` holds."""
        deadline = time.monotonic() + timeout
        while not self.dumps:
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, f"no dump from mite stats\n{self.output()}"
            self.send(PROBE)
            self._receive(100)
        for m in messages:
            self.send(m)
        while not done(merge(self.dumps)):
            assert time.monotonic() < deadline, f"dumps never added up: {merge(self.dumps)}"
            self.send(PROBE)
            self._receive(100)
        return merge(self.dumps)

    def output(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.context.destroy(linger=0)


def merge(dumps):
    """Every stat across `dumps`: {name: {"type", "labels", "metrics"}}, counters summed,
    histogram counts, sums and bin counts added up."""
    merged = {}
    for dump in dumps:
        for stat in dump:
            entry = merged.setdefault(
                stat["name"], {"type": stat["type"], "labels": tuple(stat["labels"]), "metrics": {}}
            )
            if stat["type"] == "Histogram":
                entry["bins"] = tuple(stat["bins"])
                for part in ("total_counts", "sums"):
                    for key, value in stat[part].items():
                        entry["metrics"].setdefault(part, {}).setdefault(key, 0)
                        entry["metrics"][part][key] += value
                for key, counts in stat["bin_counts"].items():
                    old = entry["metrics"].setdefault("bin_counts", {}).get(key, (0,) * len(counts))
                    entry["metrics"]["bin_counts"][key] = tuple(
                        a + b for a, b in zip(old, counts, strict=True)
                    )
            else:
                for key, value in stat["metrics"].items():
                    entry["metrics"][key] = entry["metrics"].get(key, 0) + value
    return merged
