"""Thrift calls as bytes: requests and replies built with the thrift compiler's generated classes."""

import asyncio
import logging
import time
from dataclasses import dataclass
from importlib import import_module
from itertools import count
from typing import Any

from . import _extra

if _extra.thrift is None:
    raise _extra.missing()

from thrift.protocol.TBinaryProtocol import TBinaryProtocol  # noqa: E402
from thrift.Thrift import TMessageType, TType  # noqa: E402
from thrift.transport import TTransport  # noqa: E402

logger = logging.getLogger(__name__)

# Looked up by name on every call: tests replace it to pin the sequence numbers sent.
_SEQUENCE_NOS = count(1)
_SIMPLE_TYPES = {TType.STRING, TType.BOOL, TType.I64, TType.I32}


async def _result_wait(self, seconds):
    """`reply.chained_wait(seconds)`: sleep until `seconds` after the call was sent.

    Set as a method on generated reply classes (which cannot be edited), hence `self`.
    A reply that does not know when its call was sent waits a token 0.1 s.
    """
    sent_time = getattr(self, "_sent_time", None)
    to_sleep = 0.1 if sent_time is None else seconds - (time.time() - sent_time)
    if to_sleep > 0:
        await asyncio.sleep(to_sleep)


class _ThriftError:
    """A call's failure (a thrift exception, or a reply that could not be read), kept as `_wrapped`."""

    def __init__(self, wrapped):
        self._wrapped = wrapped


# Generated clients are stateful objects holding their protocols and sequence id; their
# send_*/recv_* methods read only these attributes, so a small proxy stands in for `self`.
@dataclass
class _ReadProxy:
    _iprot: Any


@dataclass
class _WriteProxy:
    _seqid: int
    _oprot: Any


def _buffer_bytes(write):
    trans = TTransport.TMemoryBuffer()
    write(TBinaryProtocol(trans))
    return trans.getvalue()


class ThriftMessageFactory:
    """Builds the request bytes for one remote function and reads its replies.

    `fn_name` names the function; `client` is the thrift-generated `Client` class of its
    service; `stats_name` (default `fn_name`) is the `function` in `finagle_metrics`, for
    telling apart same-named functions of different services.
    """

    @classmethod
    def get_methods(cls, module):
        """The function names of a generated service module (from its `Processor`)."""
        if "Processor" not in module.__dict__:
            raise ValueError(f"{module.__name__} doesn't contain a Processor class")
        for name in module.__dict__["Processor"].__dict__:
            if name.startswith("process_"):
                yield name[len("process_") :]

    def __init__(self, fn_name, client, stats_name=None):
        self._fn_name = fn_name
        self._client = client
        self._stats_name = stats_name or fn_name
        if getattr(client, fn_name, None) is None:
            raise Exception(
                f"wrong client passed when instantiating message factory for: {fn_name}"
            )
        module = import_module(client.__module__)
        self._args_struct = getattr(module, fn_name + "_args")
        self._result_object = getattr(module, fn_name + "_result")
        reply_class = self._get_reply_object(self._result_object)
        if reply_class is not None:
            reply_class.chained_wait = _result_wait

    @staticmethod
    def _get_reply_object(wrapper):
        """The struct class a function returns, or None (void, a list, or a plain value)."""
        spec = wrapper.thrift_spec
        if not spec or spec[0] is None or spec[0][1] != TType.STRUCT:
            return None
        return spec[0][3][0]

    def _request_struct(self):
        spec = self._args_struct.thrift_spec
        if len(spec) > 1 and spec[1] is not None and spec[1][1] == TType.STRUCT:
            return spec[1][3][0]
        return None

    def get_request_bytes(self, *args, **kwargs):
        """The serialised call. When the function's first argument is a struct, `args` and
        `kwargs` construct it; otherwise they are the function's own arguments."""
        seq_no = next(_SEQUENCE_NOS)
        send = getattr(self._client, "send_" + self._fn_name)
        struct = self._request_struct()
        if struct is not None:
            request = struct(*args, **kwargs)
            return _buffer_bytes(lambda proto: send(_WriteProxy(seq_no, proto), request))
        return _buffer_bytes(lambda proto: send(_WriteProxy(seq_no, proto), *args, **kwargs))

    def get_request_object(self, msg):
        """The first argument (`request`) of the serialised call `msg`, or () if it has none."""
        proto = TBinaryProtocol(TTransport.TMemoryBuffer(msg))
        proto.readMessageBegin()
        args = self._args_struct()
        args.read(proto)
        return getattr(args, "request", ())

    def get_reply_object(self, msg):
        """The value returned in the serialised reply `msg`; a failure comes back (not raised)
        as a `_ThriftError` wrapping the exception."""
        proxy = _ReadProxy(TBinaryProtocol(TTransport.TMemoryBuffer(msg)))
        try:
            return getattr(self._client, "recv_" + self._fn_name)(proxy)
        except Exception as e:
            logger.debug("finagle error in %s: %s", self._fn_name, e)
            return _ThriftError(e)

    def get_reply_bytes(self, seqid, *args, **kwargs):
        """A serialised successful reply whose returned struct is built from `args`/`kwargs`."""
        result = self._result_object()
        reply_class = self._get_reply_object(self._result_object)
        if reply_class is not None:
            result.success = reply_class(*args, **kwargs)

        def write(proto):
            proto.writeMessageBegin(self._fn_name, TMessageType.REPLY, seqid)
            result.write(proto)
            proto.writeMessageEnd()

        return _buffer_bytes(write)

    def get_reply_args(self, overrides):
        """Placeholder constructor arguments for the returned struct (for stub servers);
        `overrides[fn_name]` maps field names to the values to use instead."""
        reply_class = self._get_reply_object(self._result_object)
        if reply_class is None:
            return {}
        return self._get_args_for_spec(reply_class.thrift_spec, overrides)

    def _get_simple_type(self, type):
        if type == TType.STRING:
            return "foo"
        if type == TType.BOOL:
            return False
        if type in (TType.I64, TType.I32):
            return 1
        return None

    def _placeholder(self, value_type, type_args, what):
        if value_type == TType.STRUCT:
            struct = type_args[0]
            return struct(**self._get_args_for_spec(struct.thrift_spec))
        if value_type in _SIMPLE_TYPES:
            return self._get_simple_type(value_type)
        raise Exception(f"no placeholder for a {what} of thrift type {value_type}")

    def _get_args_for_spec(self, spec, overrides=None):
        overrides = (overrides or {}).get(self._fn_name, {})
        kwargs = {}
        for field in spec:
            if not isinstance(field, tuple):
                continue  # the None standing for an unused field id
            _, field_type, name, type_args = field[:4]
            if name in overrides:
                kwargs[name] = overrides[name]
            elif field_type in _SIMPLE_TYPES:
                kwargs[name] = self._get_simple_type(field_type)
            elif field_type == TType.STRUCT:
                kwargs[name] = type_args[0](**self._get_args_for_spec(type_args[0].thrift_spec))
            elif field_type == TType.MAP:
                key = self._placeholder(type_args[0], type_args[1], "map key")
                kwargs[name] = {key: self._placeholder(type_args[2], type_args[3], "map value")}
            elif field_type == TType.LIST:
                if type_args[0] == TType.STRUCT:
                    # An empty tuple: a struct member could recurse (a status listing statuses).
                    kwargs[name] = ()
                elif type_args[0] in _SIMPLE_TYPES:
                    kwargs[name] = (self._get_simple_type(type_args[0]),)
                else:
                    raise Exception(f"no placeholder for a list of thrift type {type_args[0]}")
            else:
                raise Exception("can't initialize", field_type)
        return kwargs
