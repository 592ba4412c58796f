"""`--runners=N`: a local run's journeys in N `mite runner` processes, with the controller, the
message pipeline (collector, recorder, console, report) and the exit status in this one.

Each child is an ordinary `mite runner`: it talks to this process over ZeroMQ on ipc sockets in
a private folder (its own REP socket, so a child that dies is known by name, and one PULL socket
for every child's messages, fed natively into this run's pipeline). Children run in their own
process group, so the terminal's Ctrl-C reaches only this process, which passes each stop
signal on once; they die with this process (PR_SET_PDEATHSIG), and are killed and reaped on the
way out whatever happens.
"""

import asyncio
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .._native import Inlet
from ..zmq import ControllerServer
from .control import _Scenario
from .graceful import GRACE_SECONDS, STOP_SIGNALS
from .parent import PARENT_ENV, TOTALS_FD_ENV

logger = logging.getLogger("mite.runners")

# Exit status of a run during which a runner process died (before the threshold verdict, after
# errors of the run itself): the numbers are incomplete, whatever else happened.
EXIT_RUNNER_DIED = 3
# How long children may take to exit once they should (said bye, or were told to stop and had
# their grace period) before they are killed.
EXIT_WAIT_SECONDS = 10.0
POLL_SECONDS = 0.1
# Options a `mite runner` takes from the command line, passed on to each child as given.
RUNNER_OPTIONS = ("--log-level", "--min-loop-delay", "--max-loop-delay", "--runner-max-journeys")
FLAGS = ("--exclude-working-directory",)


def count(value):
    """`--runners`: a whole number, or `auto` for the cores this process may run on."""
    if value in (None, ""):
        return 1
    if value == "auto":
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:
            return os.cpu_count() or 1
    return int(value)


def _describe(status):
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by signal {-status} ({name})"
    return f"exited with status {status}"


class _Child:
    def __init__(self, number, sock, proc, totals_fd):
        self.number, self.sock, self.proc, self.totals_fd = number, sock, proc, totals_fd
        self.runner_id = None
        self.said_bye = False
        self.ended = False
        self.totals = None

    def read_totals(self):
        """What the child wrote before it exited (non-blocking: a process the journeys started
        might still hold the pipe)."""
        os.set_blocking(self.totals_fd, False)
        try:
            with os.fdopen(self.totals_fd, "rb") as f:
                self.totals = json.loads(f.read() or b"null")
        except (OSError, ValueError):
            self.totals = None


class RunnerProcesses:
    """N runner processes and the controller's side of their sockets, for one run."""

    def __init__(self, opts, number, controller, sink):
        self.opts, self.number, self.controller = opts, number, controller
        self.dir = tempfile.mkdtemp(prefix="mite-runners-")
        self.inlet = Inlet(sink, f"ipc://{self.dir}/messages")
        self.children = []
        # Scenario errors and "stop" answers, as `mite controller` has them.
        self.scenario = _Scenario(controller)
        self.deaths = []
        self.exit_code = None  # the --debugging post-mortem's (not offered with children)
        self._lock = asyncio.Lock()
        self._stop_deadline = None
        self._obeyed = set()  # exit statuses of a child that obeyed a stop signal passed on

    def _argv(self, socket):
        argv = [sys.executable, "-m", "mite"]
        for name in RUNNER_OPTIONS:
            if self.opts.get(name):
                argv.append(f"{name}={self.opts[name]}")
        argv += [name for name in FLAGS if self.opts.get(name)]
        return [*argv, "runner", f"--controller-socket={socket}", f"--message-socket={self.inlet.address}"]

    def start(self):
        """Starts the children (from the main thread: PR_SET_PDEATHSIG follows the thread that
        started a process)."""
        for n in range(1, self.number + 1):
            address = f"ipc://{self.dir}/controller-{n}"
            sock = ControllerServer(address)
            read_end, write_end = os.pipe()
            env = {**os.environ, PARENT_ENV: str(os.getpid()), TOTALS_FD_ENV: str(write_end)}
            try:
                proc = subprocess.Popen(
                    self._argv(address),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    pass_fds=(write_end,),
                    process_group=0,
                )
            finally:
                os.close(write_end)
            self.children.append(_Child(n, sock, proc, read_end))
        logger.info("started %d runner processes: pids %s", self.number, " ".join(str(c.proc.pid) for c in self.children))

    # --- the run ---------------------------------------------------------------------------

    async def run(self):
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._serve(child)) for child in self.children]
        try:
            await self._watch()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, child):
        await child.sock.run(_ChildController(self.scenario, child, self._lock), lambda: child.ended)

    async def _watch(self):
        while not all(c.ended for c in self.children):
            await asyncio.sleep(POLL_SECONDS)
            for child in self.children:
                if not child.ended and child.proc.poll() is not None:
                    self._ended(child)
            self._kill_late()

    def _ended(self, child):
        child.ended = True
        child.read_totals()
        status = child.proc.returncode
        if status == 0 and child.said_bye:
            return
        if status in self._obeyed:
            # Stopped by the signal passed on to it (before it could say bye, if it was still
            # starting): not a death.
            if child.runner_id is not None and not child.said_bye:
                self.controller.bye(child.runner_id)
            return
        line = f"runner process {child.number} (pid {child.proc.pid}) {_describe(status)}"
        if child.runner_id is None and getattr(self.controller, "expected_runners", 1) > 1:
            # It never said hello: arrival-rate work need not wait for it.
            self.controller.expected_runners -= 1
        if not child.said_bye:
            line += " before the end of the run"
            if child.runner_id is not None:
                # Forgotten now rather than after the tracker's timeout: its journeys count
                # no longer, so the controller hands them to the others.
                self.controller.bye(child.runner_id)
                line += "; its journeys are handed to the other runners"
        logger.error(line)
        self.deaths.append(line)

    def _kill_late(self):
        """Kills children that should have exited by now."""
        now = time.monotonic()
        done = all(c.said_bye or c.ended for c in self.children)
        if done and self._stop_deadline is None:
            self._stop_deadline = now + EXIT_WAIT_SECONDS
        if self._stop_deadline is None or now < self._stop_deadline:
            return
        for child in self.children:
            if not child.ended and child.proc.poll() is None:
                logger.error("runner process %d (pid %d) did not exit in time; killed", child.number, child.proc.pid)
                child.proc.kill()

    # --- signals ---------------------------------------------------------------------------

    def signal_handler(self, loop, interrupted):
        return _PassOn(self, loop, interrupted)

    def pass_on(self, signum):
        self.scenario.stopping = True
        self._obeyed.update((0, 128 + int(signum), -int(signum), -int(signal.SIGTERM)))
        for child in self.children:
            if not child.ended and child.proc.poll() is None:
                # A child that has not said hello yet may still be importing, before its own
                # handlers: SIGTERM ends it quietly (SIGINT would print a KeyboardInterrupt).
                sent = signum if child.runner_id is not None else signal.SIGTERM
                try:
                    child.proc.send_signal(sent)
                except ProcessLookupError:
                    pass
        if self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + GRACE_SECONDS + EXIT_WAIT_SECONDS

    # --- the end ---------------------------------------------------------------------------

    def finish(self):
        """After the loop: every child killed and reaped, every frame they sent taken in.
        Returns the inlet's counts."""
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.kill()
            child.proc.wait()
            if not child.ended:
                child.ended = True
                child.read_totals()
        for child in self.children:
            child.sock.close()
        totals = [c.totals for c in self.children]
        # Every child said how many frames it forwarded: wait for exactly those. Otherwise (a
        # child died) wait until the socket has been quiet a while.
        expected = None if None in totals else sum(t["forwarded"] for t in totals)
        counts = self.inlet.finish(expected=expected)
        if expected is not None and counts["received"] < expected:
            logger.error("runner messages: %d of %d arrived", counts["received"], expected)
        logger.debug("runner messages: %s", counts)
        shutil.rmtree(self.dir, ignore_errors=True)
        return counts

    def kill(self):
        """Last resort on the way out: no child outlives the run."""
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.kill()
            child.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class _ChildController:
    """The controller as one child's socket sees it: which runner id the child holds and whether
    it said bye; work requests from all children one at a time (mite's controller answers one
    request at a time, and `request_work` awaits datapool checkouts)."""

    def __init__(self, scenario, child, lock):
        self.scenario, self.child, self.lock = scenario, child, lock

    def hello(self, capabilities=None):
        reply = self.scenario.hello(capabilities)
        self.child.runner_id = reply[0]
        return reply

    async def request_work(self, *content):
        async with self.lock:
            return await self.scenario.request_work(*content)

    def bye(self, runner_id):
        self.child.said_bye = True
        return self.scenario.bye(runner_id)


class _PassOn:
    """Each stop signal goes to every child once; the first is the run's interruption."""

    def __init__(self, processes, loop, interrupted):
        self.processes, self.loop, self.interrupted = processes, loop, interrupted

    def _on_signal(self, signum):
        if not self.interrupted:
            self.interrupted.append(signum)
            logger.warning("Interrupted: no new journeys; running ones get %.0fs to finish", GRACE_SECONDS)
        self.processes.pass_on(signum)

    def install(self):
        for signum in STOP_SIGNALS:
            self.loop.add_signal_handler(signum, self._on_signal, signum)

    def remove(self):
        for signum in STOP_SIGNALS:
            self.loop.remove_signal_handler(signum)
