"""The live status area of a local run: when it is drawn, and Python's lines written above it."""

import io
import logging
import os
import sys
import termios


def _terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wanted(opts):
    """On a terminal, unless `--hide-constant-logs` asks for today's lines and nothing else, or
    `--debugging` may open the debugger's prompt on it."""
    return (
        not opts.get("--hide-constant-logs")
        and not opts.get("--debugging")
        and _terminal(sys.stderr)
        and os.environ.get("TERM", "") != "dumb"
    )


class _Above(io.TextIOBase):
    """A text stream whose whole lines go to the terminal above the status area."""

    def __init__(self, write, original):
        self._write = write
        self._original = original
        self._pending = ""

    def write(self, s):
        self._pending += s
        head, newline, self._pending = self._pending.rpartition("\n")
        if newline:
            self._write(head + newline)
        return len(s)

    def close_pending(self):
        if self._pending:
            self._write(self._pending)
            self._pending = ""

    def isatty(self):
        return True

    def fileno(self):
        return self._original.fileno()

    @property
    def encoding(self):
        return self._original.encoding


def _quiet_echo(fd):
    """Stops the terminal echoing typed keys (Ctrl-C's `^C` among them) into the status area,
    which would shift it a line and leave part of it behind; ISIG stays on, so Ctrl-C works."""
    try:
        attrs = termios.tcgetattr(fd)
        quiet = list(attrs)
        quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    except (termios.error, OSError):
        return None
    return attrs


def route_lines(pipeline):
    """Sends Python's log records and prints to the terminal through `pipeline.write_stderr`, so
    they scroll above the status area instead of tearing it; returns what `unroute` restores."""
    fd = sys.stderr.fileno()
    saved = (sys.stdout, sys.stderr, [], fd, _quiet_echo(fd))
    err = _Above(pipeline.write_stderr, sys.stderr)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            saved[2].append(handler)
            handler.setStream(err)
    sys.stderr = err
    # stdout too, when it is the same terminal (a journey's print); elsewhere it is left alone.
    if _terminal(sys.stdout) and os.path.samestat(os.fstat(1), os.fstat(2)):
        sys.stdout.flush()
        sys.stdout = _Above(pipeline.write_stderr, sys.stdout)
    return saved


def unroute(saved):
    """Puts the streams `route_lines` replaced back."""
    if saved is None:
        return
    stdout, stderr, handlers, fd, attrs = saved
    if attrs is not None:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except (termios.error, OSError):
            pass
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Above):
            stream.close_pending()
    sys.stdout, sys.stderr = stdout, stderr
    for handler in handlers:
        handler.setStream(stderr)
