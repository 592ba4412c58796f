"""The one path of `mite ARGS`: argv is parsed once (natively, mite 2.11's docopt grammar), the
command words pick a function from `COMMANDS`, and whatever error a command lets out becomes its
one line and exit status in `exit_status` — the only place errors meet exit codes."""

import logging
import os
import sys

from .. import _native
from .._errors import UnavailableError
from ..exceptions import InfluxConfigError
from ..utils import SpecError
from .common import UsageError

LOG_FORMAT = "[%(asctime)s] <%(levelname)s> [%(name)s] [%(pathname)s:%(lineno)d %(funcName)s] %(message)s"

# Exit statuses. 1 is also what a run that broke a threshold returns (its own verdict, returned).
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Bad input: a spec, an option value, a configuration. Told apart from a failed run by scripts.
USAGE_ERRORS = (SpecError, UsageError)
# Something the command needed was unusable: a file, a socket, a server, an optional library.
# `_native.ComponentError` (an OSError) is every native component's error: transport (sockets),
# duplicator, stats, exporter, collector, recorder.
FAILURES = (_native.ComponentError, OSError, InfluxConfigError, UnavailableError)


def _test(opts):
    from .test import run

    return run(opts)


def _har(opts):
    from ..har_to_mite import har

    return har(opts)


def _cat(opts):
    path = opts["MSGPACK_FILE_PATH"]
    sys.stdout.flush()  # the native writer shares the descriptor
    return _native.cat_file(path, bool(opts.get("--prettify-timestamps")))


def _uncat(opts):
    from .cat import uncat

    return uncat(opts)


def _control(name):
    def run(opts):
        from . import control

        return getattr(control, name)(opts)

    return run


def _service(name):
    def run(opts):
        from . import services

        return getattr(services, name)(opts)

    return run


def _influxdb(name):
    def run(opts):
        from . import influxdb

        return getattr(influxdb, name)(opts)

    return run


# Command words (as `mite --help` spells them) -> the function that runs the command and returns
# its exit status.
COMMANDS = {
    "scenario test": _test,
    "journey test": _test,
    "journey run": _test,
    "controller": _control("controller"),
    "runner": _control("runner"),
    "duplicator": _service("duplicator"),
    "collector": _service("collector"),
    "recorder": _service("recorder"),
    "stats": _service("stats"),
    "receiver": _service("receiver"),
    "prometheus_exporter": _service("prometheus_exporter"),
    "influxdb_exporter": _influxdb("influxdb_exporter"),
    "influxdb init": _influxdb("influxdb_init"),
    "har": _har,
    "cat": _cat,
    "uncat": _uncat,
}

# Commands that run the user's code (scenarios, processors): logging set up, working directory
# importable. `cat`, `uncat` and `har` touch neither.
_USER_CODE = set(COMMANDS) - {"cat", "uncat", "har"}


def exit_status(error):
    """The one line and status for an error a command let out, or None to let it propagate."""
    if isinstance(error, USAGE_ERRORS):
        return EXIT_USAGE
    if isinstance(error, FAILURES):
        return EXIT_FAILURE
    return None


def run(words, opts):
    """Runs one parsed command; returns its exit status."""
    if words in _USER_CODE:
        logging.basicConfig(level=(opts.get("--log-level") or "INFO").upper(), format=LOG_FORMAT)
        if not opts.get("--exclude-working-directory"):
            sys.path.insert(0, os.getcwd())
    try:
        return COMMANDS[words](opts)
    except KeyboardInterrupt:
        # Ctrl-C before the command installed its own signal handling (while importing, say).
        return EXIT_INTERRUPTED
    except Exception as e:
        status = exit_status(e)
        if status is None:
            raise
        print(f"mite: error: {e}", file=sys.stderr)
        return status


def main(argv):
    """`mite ARGS...` (without the program name); returns the exit status."""
    parsed = _native.parse_args(list(argv))
    if isinstance(parsed[0], int):
        status, out, err = parsed
        sys.stdout.write(out)
        sys.stderr.write(err)
        return status
    words, opts = parsed
    return run(words, opts)
