"""The controller protocol's frames: mite 2.11's REQ/REP message kinds and the frame limit the
native components apply (`MITE_MAX_FRAME_BYTES`, read once natively). Its one speaker is
`mite.zmq` (`RunnerTransport`, `ControllerServer`), which `mite controller`/`mite runner` use."""

from ._native import max_frame_bytes
from .utils import pack_msg, unpack_msg

# Request kinds a runner sends the controller: `(kind, content)` packed with msgpack.
HELLO = 1
REQUEST_WORK = 2
BYE = 3
KINDS = (HELLO, REQUEST_WORK, BYE)

# What mite's runners put in `hello` (2.11's sent None, and its controller ignores the content):
# they take arrival-rate leases, given as a 4th field of the work reply.
RUNNER_CAPABILITIES = {"arrival_rate": 1}

MAX_FRAME_BYTES = max_frame_bytes()


class FrameTooLarge(ValueError):
    pass


def check_size(raw):
    """Raises FrameTooLarge for a frame over the limit."""
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"{len(raw)} bytes is over MITE_MAX_FRAME_BYTES")


def request(kind, content):
    """The frame of one request."""
    return pack_msg((kind, content))


def read_request(raw):
    """`(kind, content)` of a request frame; ValueError for a frame that is not one."""
    check_size(raw)
    kind, content = unpack_msg(raw)
    if kind not in KINDS:
        raise ValueError(f"unknown request type {kind!r}")
    if kind == REQUEST_WORK and not (isinstance(content, tuple | list) and len(content) == 4):
        raise ValueError(f"a work request holds {content!r}, not 4 fields")
    return kind, content


def read_reply(raw):
    """The controller's answer in a reply frame; FrameTooLarge for one over the limit."""
    check_size(raw)
    return unpack_msg(raw)


__all__ = [
    "BYE",
    "HELLO",
    "KINDS",
    "MAX_FRAME_BYTES",
    "REQUEST_WORK",
    "RUNNER_CAPABILITIES",
    "FrameTooLarge",
    "check_size",
    "read_reply",
    "read_request",
    "request",
]
