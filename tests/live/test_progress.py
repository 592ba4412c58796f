"""The live status area of `mite scenario test`, watched in a pseudo-terminal through a terminal
emulator (pyte): it updates, it leaves the screen clean at the end and on Ctrl-C, and off a
terminal (or with --hide-constant-logs) the output has none of it."""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

import pyte
import pytest

from helpers import MITE, clean_env, http_server, run_mite, write_module

ROWS, COLS = 40, 400
STATUS = re.compile(r"^mite \d\d:\d\d:\d\d  journeys required (\d+|-) actual (\d+|-)  requests \d+")
# One log line in the layout mite's Python logging uses.
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] <[A-Z]+> \[[^\]]+\] \[.+\] .*$")


@pytest.fixture
def target():
    with http_server() as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture
def scenario(tmp_path, target):
    """A scenario of 4 concurrent HTTP journeys for `seconds` seconds (1 error every 50 requests)."""
    write_module(
        tmp_path,
        "live_scenarios",
        f"""
        import asyncio
        from mite.scenario import StopVolumeModel
        from mite_http import mite_http

        SECONDS = float(__import__("os").environ.get("LIVE_SECONDS", "6"))
        n = 0

        @mite_http
        async def journey(ctx):
            global n
            async with ctx.transaction("get"):
                await ctx.http.get("{target}")
                n += 1
                if n % 50 == 0:
                    raise ValueError("every fiftieth")
            await asyncio.sleep(0.01)

        def volume(start, end):
            if start >= SECONDS:
                raise StopVolumeModel
            return 4

        def scenarios():
            return [("live_scenarios:journey", None, volume)]
        """,
    )
    return tmp_path


def run_in_pty(args, cwd, env, interrupt_after=None, timeout=60):
    """Runs `mite ARGS` with a pseudo-terminal as its controlling terminal; returns (exit status,
    every byte it wrote). With `interrupt_after=(pattern, n)`, types Ctrl-C once the output shows
    `pattern` n times."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.chdir(cwd)
            os.execve(str(MITE), [str(MITE), *args], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    out = bytearray()
    interrupted = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every writer of the terminal has gone
                    break
                if not chunk:
                    break
                out += chunk
            if interrupt_after and not interrupted:
                pattern, n = interrupt_after
                if len(re.findall(pattern, bytes(out))) >= n:
                    os.write(fd, b"\x03")  # Ctrl-C, as typed: the terminal sends SIGINT
                    interrupted = True
        else:
            raise AssertionError(f"mite still running after {timeout} s: {bytes(out)[-2000:]!r}")
        _, status = os.waitpid(pid, 0)
        # The terminal's modes are shared by both ends: typed keys echo again after the run.
        lflag = termios.tcgetattr(fd)[3]
        assert lflag & termios.ECHO and lflag & termios.ECHOCTL, "echo left off"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(out)


def screen_after(raw):
    """The emulated terminal after `raw`, and every status frame shown on the way."""
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    frames = []
    for i in range(0, len(raw), 64):
        stream.feed(raw[i : i + 64])
        shown = [line for line in screen.display if STATUS.match(line)]
        if shown and (not frames or frames[-1] != shown[0]):
            frames.append(shown[0])
    return screen, frames


def assert_clean(screen, raw):
    text = "\n".join(line.rstrip() for line in screen.display)
    assert not [line for line in screen.display if STATUS.match(line)], text
    assert "last " not in text and "req/s" not in text, text
    assert not screen.cursor.hidden
    # The cursor waits at the start of an empty line: nothing half-drawn after the last output.
    assert screen.cursor.x == 0, (screen.cursor.x, screen.display[screen.cursor.y])
    assert screen.display[screen.cursor.y].strip() == "", text
    assert b"\x1b[?25l" not in raw or raw.rfind(b"\x1b[?25h") > raw.rfind(b"\x1b[?25l")


def test_the_status_area_updates_and_leaves_the_terminal_clean(scenario):
    env = clean_env(TERM="xterm", LIVE_SECONDS="6")
    code, raw = run_in_pty(["scenario", "test", "live_scenarios:scenarios", "--max-errors-threshold=100000"], scenario, env)
    assert code == 0, raw[-3000:]
    screen, frames = screen_after(raw)
    # Drawn about once a second for 6 s: several distinct frames, the journeys' numbers in them.
    assert len(frames) >= 3, frames
    assert any("journeys required 4 actual" in f for f in frames), frames
    assert any(re.search(r"requests [1-9]", f) for f in frames), frames
    assert re.search(rb"last \d\.\d s: \d+\.\d req/s  errors \d+  p50 \d", raw), raw[-3000:]
    assert_clean(screen, raw)
    # The 2.11 lines are still there, scrolled above the area, whole.
    lines = [line.rstrip() for line in screen.display if line.strip()]
    assert any("Total> #Reqs:" in line for line in lines), lines
    assert all(LOG_LINE.match(line) or line.startswith(" ") for line in lines if "<" in line)


def test_ctrl_c_leaves_the_terminal_clean(scenario):
    env = clean_env(TERM="xterm", LIVE_SECONDS="60")
    code, raw = run_in_pty(
        ["scenario", "test", "live_scenarios:scenarios", "--max-errors-threshold=100000"],
        scenario,
        env,
        interrupt_after=(rb"requests [1-9]", 1),
    )
    assert code == 128 + signal.SIGINT or code == 0, (code, raw[-3000:])
    screen, frames = screen_after(raw)
    assert frames, raw[-3000:]
    assert_clean(screen, raw)


def test_hide_constant_logs_on_a_terminal_draws_nothing(scenario):
    env = clean_env(TERM="xterm", LIVE_SECONDS="3")
    args = ["scenario", "test", "live_scenarios:scenarios", "--hide-constant-logs",
            "--max-errors-threshold=100000"]
    code, raw = run_in_pty(args, scenario, env)
    assert code == 0, raw[-3000:]
    assert b"\x1b" not in raw, raw[-3000:]
    assert b"req/s" not in raw and b"Total>" not in raw


def test_off_a_terminal_the_lines_are_todays(scenario):
    proc = run_mite(
        ["scenario", "test", "live_scenarios:scenarios", "--max-errors-threshold=100000"], scenario, env=clean_env(LIVE_SECONDS="5")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "\x1b" not in proc.stderr and "req/s" not in proc.stderr
    constant = [line for line in proc.stderr.splitlines() if "[Http Stats]" in line]
    assert any("Total> #Reqs:" in line for line in constant), proc.stderr[-3000:]
    assert any(re.search(r"Last [\d.]+ Secs> #Reqs:\d+ #Errs:\d+ Req/S:", x) for x in constant)
    for line in proc.stderr.splitlines():
        assert not line or LOG_LINE.match(line) or not line.startswith("["), line
