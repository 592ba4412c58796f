"""A `mite runner` started by a local run with `--runners=N`: it dies with its parent and tells
the parent how many frames it forwarded. Both are no-ops for a runner started by hand."""

import ctypes
import json
import os
import signal

# Set by the parent for each child: the parent's pid, and the pipe the child's totals go to.
PARENT_ENV = "MITE_RUNNERS_PARENT"
TOTALS_FD_ENV = "MITE_RUNNERS_TOTALS_FD"
# prctl(2): the signal a process gets when the thread that started it exits.
PR_SET_PDEATHSIG = 1


def follow_parent():
    """Asks the kernel for SIGKILL when the parent dies (a SIGKILLed parent leaves no runner
    behind); exits at once if the parent is already gone."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have died before the call above took effect.
    if os.getppid() != int(parent):
        os._exit(1)


def tell_parent(totals):
    """Writes this runner's totals to the parent's pipe, if it gave one."""
    fd = os.environ.pop(TOTALS_FD_ENV, None)
    if fd is None:
        return
    body = {k: totals[k] for k in ("sent", "forwarded", "forward_dropped")}
    try:
        with os.fdopen(int(fd), "w") as f:
            f.write(json.dumps(body))
    except OSError:
        pass  # the parent is gone; nobody to tell
