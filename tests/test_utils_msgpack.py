"""`mite.utils.pack_msg` / `unpack_msg` read and refuse exactly what msgpack-python does."""

import msgpack
import pytest

from mite.utils import pack_msg, unpack_msg


def reference(raw):
    return msgpack.unpackb(raw, raw=False, use_list=False, strict_map_key=False)


@pytest.mark.parametrize(
    "raw",
    [b"\xc1", b"\x91\xc1", b"\x81\xa1a\xc1", b"", b"\x92\x01", b"\x01\x02"],
    ids=["reserved", "reserved-in-array", "reserved-in-map", "empty", "truncated", "extra"],
)
def test_what_msgpack_python_refuses_is_refused(raw):
    with pytest.raises((ValueError, msgpack.FormatError, msgpack.ExtraData)):
        reference(raw)
    with pytest.raises(ValueError):
        unpack_msg(raw)


@pytest.mark.parametrize(
    "value",
    [None, True, 1, -1, 2**64 - 1, 1.5, "é\xc1", b"\xc1\xc1", (1, (2, 3)), {"a": {(1, 2): b"x"}}],
)
def test_values_round_trip_as_msgpack_python_reads_them(value):
    raw = pack_msg(value)
    assert raw == msgpack.packb(value, use_bin_type=True)
    assert unpack_msg(raw) == reference(raw)
