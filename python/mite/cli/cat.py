"""`mite cat` (native: msgpack file to JSON lines) and `mite uncat` (JSON lines on stdin to
msgpack frames on stdout)."""

import json
import sys

from ..utils import pack_msg


def uncat(opts):
    """Each JSON line on stdin becomes one msgpack frame on stdout; returns the exit status."""
    out = sys.stdout.buffer
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as e:
            print(f"mite: error: line {number} is not JSON: {e}", file=sys.stderr)
            return 1
        out.write(pack_msg(value))
    out.flush()
    return 0
