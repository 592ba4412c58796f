"""What a deployment exposes: recorder names that try to leave its folder, and the addresses the
listening components bind when given no address (loopback only)."""

import os
import textwrap
import time
from pathlib import Path

import harness

# Twelve names a message could carry to write or delete outside the recorder's folder.
HOSTILE_NAMES = [
    "../escaped", "../../deeper", "sub/inner", "/tmp/mite-faults-abs", "..", ".", "",
    "a\0b", "..\\win", "x" * 300, "./../dot", "sub/../../up",
]


def _files(folder):
    return {p for p in Path(folder).rglob("*") if p.is_file()}


def hostile_names(scratch, row, impls):
    for impl in impls:
        folder = scratch / f"names-{impl}"
        (folder / "rec" / "sub").mkdir(parents=True)
        outside_before = _files(folder) | {Path("/tmp/mite-faults-abs.msgpack")}
        address = harness.free_address()
        c = harness.Component(["recorder", f"--recorder-socket={address}", "--recorder-dir=rec"],
                              folder, impl=impl)
        push = harness.Pusher(address, bind=True)
        time.sleep(0.5 if impl == "ours" else 2.0)
        frames = [harness.pack({"type": "data_created", "name": n, "data": 1}) for n in HOSTILE_NAMES]
        frames.append(harness.pack({"type": "data_created", "name": "good", "data": 1}))
        push.send(frames)
        push.close()
        harness.wait_for(lambda folder=folder, c=c: (folder / "rec" / "good.msgpack").exists()
                         or not c.alive(), 30, "the recorder to write good.msgpack")
        died = not c.alive()
        c.stop(grace=10.0 if impl == "ours" else 3.0)
        written = _files(folder) - outside_before
        stray = sorted(str(p.relative_to(folder)) if p.is_relative_to(folder) else str(p)
                       for p in written
                       if p.suffix == ".msgpack" and p != folder / "rec" / "good.msgpack")
        for p in written:  # an absolute name may have landed outside the scratch folder
            if not p.is_relative_to(folder):
                p.unlink(missing_ok=True)
        abs_file = Path("/tmp/mite-faults-abs.msgpack")
        if abs_file.exists():
            stray.append(str(abs_file))
            abs_file.unlink()
        counts = harness.totals(c.stderr())
        refused = "-" if counts is None else counts.get("refused", 0)
        row(f"{len(HOSTILE_NAMES)} hostile recorder names (+1 good)", impl, len(frames), refused,
            "-", "yes" if died else "no",
            f"refused per totals: {refused}; files written besides good.msgpack: "
            f"{len(stray)}" + (f" ({', '.join(stray[:4])}{', ...' if len(stray) > 4 else ''})"
                               if stray else ""))


SCENARIO = """
def volume(start, end):
    return 1


async def journey(ctx):
    pass


def scenario():
    return [["journeys:journey", None, volume]]
"""


def _listening(pid):
    """The addresses `pid` listens on (TCP, v4 and v6) as `host:port` strings."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, v6 in (("tcp", False), ("tcp6", True)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            host, port = fields[1].split(":")
            if v6:
                loop = host in ("00000000000000000000000001000000",)
                name = "::1" if loop else ("::" if set(host) == {"0"} else host)
            else:
                name = ".".join(str(b) for b in reversed(bytes.fromhex(host)))
            found.append(f"{name}:{int(port, 16)}")
    return found


def default_binds(scratch, row, impls):
    """The controller, duplicator and exporter started without addresses (their defaults)."""
    for impl in impls:
        folder = scratch / f"binds-{impl}"
        folder.mkdir()
        (folder / "journeys.py").write_text(textwrap.dedent(SCENARIO))
        commands = {
            "controller": ["controller", "journeys:scenario"],
            "duplicator": ["duplicator", harness.free_address()],
            "prometheus_exporter": ["prometheus_exporter"],
        }
        for name, args in commands.items():
            c = harness.Component(args, folder, impl=impl)
            try:
                addresses = harness.wait_for(lambda c=c: c.alive() and _listening(c.pid), 30,
                                             f"{name} to listen")
            except TimeoutError:
                addresses = []
            time.sleep(2.0)  # a component may open its second listener a moment after the first
            if c.alive():
                addresses = _listening(c.pid)
            died = not c.alive()
            c.stop(grace=10.0 if impl == "ours" else 3.0)
            wide = [a for a in addresses if not a.startswith(("127.", "::1:"))]
            row(f"{name} with its default addresses", impl, "-", "-", "-", "yes" if died else "no",
                f"listens on {', '.join(sorted(addresses)) or 'nothing'}"
                + (f"; NOT loopback: {', '.join(wide)}" if wide else "; loopback only"))
