"""Finagle's mux framing: field codecs and the messages a thrift-over-mux client exchanges."""

import enum
import inspect
from io import BytesIO

# Field codecs: each reads its value from a binary stream and serialises it back.


class Int:
    """A big-endian integer of `length` bytes, optionally signed."""

    def __init__(self, length, signed=False):
        self._length = length
        self._signed = signed

    def read(self, input):
        raw = input.read(self._length)
        if len(raw) != self._length:
            raise ValueError("integer not fully read")
        return int.from_bytes(raw, "big", signed=self._signed)

    def serialize(self, value):
        return value.to_bytes(self._length, "big", signed=self._signed)


class String:
    """Bytes prefixed with their length in `len_bytes` bytes."""

    def __init__(self, len_bytes):
        self._length = Int(len_bytes)

    def read(self, input):
        length = self._length.read(input)
        raw = input.read(length)
        if len(raw) != length:
            raise ValueError("string read too short")
        return raw

    def serialize(self, s):
        return self._length.serialize(len(s)) + s


class RestString:
    """Bytes running to the end of the message."""

    def read(self, input):
        return input.read()

    def serialize(self, s):
        return s


class Dict:
    """A count of pairs in `len_bytes` bytes, then each key and value as a `String(strlen_bytes)`."""

    def __init__(self, len_bytes, strlen_bytes):
        self._length = Int(len_bytes)
        self._string = String(strlen_bytes)

    def read(self, input):
        try:
            pairs = self._length.read(input)
            return {self._string.read(input): self._string.read(input) for _ in range(pairs)}
        except ValueError as e:
            raise ValueError("couldn't read dict") from e

    def serialize(self, d):
        items = b"".join(
            self._string.serialize(k) + self._string.serialize(v) for k, v in d.items()
        )
        return self._length.serialize(len(d)) + items


class RestDict:
    """Key/value `String(strlen_bytes)` pairs, with no count, to the end of the message."""

    def __init__(self, strlen_bytes):
        self._string = String(strlen_bytes)

    def read(self, input):
        d = {}
        end = len(input.getbuffer())
        while input.tell() < end:
            key = self._string.read(input)
            d[key] = self._string.read(input)
        return d

    def serialize(self, d):
        return b"".join(self._string.serialize(k) + self._string.serialize(v) for k, v in d.items())


class Body:
    """The message body: the rest of the frame, unframed."""

    def read(self, input):
        return input.read()

    def serialize(self, value):
        return value


# Messages. A frame is: size (4 bytes, counting what follows), type (1 signed byte),
# tag (3 bytes), then the type's fields in the order its `Fields` annotations list them.

_TYPE = Int(1, signed=True)
_TAG = Int(3)
_SIZE = Int(4)
_TYPES = {}
_FIELDS = {}  # class -> (its Fields class, the (name, codec) pairs read from it)


class Message:
    """A mux message.

    Subclasses set `type` (an int) and `Fields` (a class whose annotations are the codecs
    above, in wire order). Each gets a `Reply` message: written out, or made here with the
    negated type and the same fields; a written `Reply` without `type` or `Fields` takes them
    from the parent the same way. `args_for_reply(...)` gives `make_reply`'s keyword arguments.
    Messages compare equal when of one type with equal fields (the tag is not compared).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__name__ == "Reply":
            return  # completed by the message that owns it
        reply = cls.__dict__.get("Reply")
        if reply is None:
            cls.Reply = type("Reply", (Message,), {"type": -cls.type, "Fields": cls.Fields})
            cls.Reply.__qualname__ = f"{cls.__qualname__}.Reply"
        else:
            if reply.__bases__[0] is not Message:
                raise ValueError("Found Reply class not derived from Message")
            if "type" not in reply.__dict__:
                reply.type = -cls.type
            if "Fields" not in reply.__dict__:
                reply.Fields = cls.Fields
        if Message in cls.__bases__:
            _TYPES[cls.type] = cls
            _TYPES[cls.Reply.type] = cls.Reply

    def __init__(self, tag, *args, **kwargs):
        self.tag = tag
        positional = [name for name, _ in self._fields() if name not in kwargs]
        if len(positional) != len(args):
            raise TypeError(
                f"{type(self).__qualname__} takes fields {positional}, got {len(args)} positional values"
            )
        kwargs.update(zip(positional, args, strict=True))
        for name, value in kwargs.items():
            setattr(self, name, value)

    @classmethod
    def _fields(cls):
        """(name, codec) pairs in wire order; names starting with `_` are not on the wire."""
        cached = _FIELDS.get(cls)
        if cached is None or cached[0] is not cls.Fields:
            annotations = inspect.get_annotations(cls.Fields, eval_str=True)
            fields = [
                (name, codec) for name, codec in annotations.items() if not name.startswith("_")
            ]
            cached = _FIELDS[cls] = (cls.Fields, fields)
        return cached[1]

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name, _ in self._fields()
        )

    __hash__ = None

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name, None)!r}" for name, _ in self._fields())
        return f"{type(self).__qualname__}(tag={self.tag}{', ' if fields else ''}{fields})"

    def to_bytes(self):
        payload = b"".join(codec.serialize(getattr(self, name)) for name, codec in self._fields())
        header = _TYPE.serialize(self.type) + _TAG.serialize(self.tag)
        return _SIZE.serialize(len(payload) + 4) + header + payload

    @classmethod
    def from_bytes(cls, msg):
        """The message in `msg`, a frame without its size prefix."""
        stream = BytesIO(msg)
        msg_type = _TYPE.read(stream)
        tag = _TAG.read(stream)
        subclass = _TYPES.get(msg_type)
        if subclass is None:
            raise ValueError(f"unknown mux message type {msg_type}")
        kwargs = {name: codec.read(stream) for name, codec in subclass._fields()}
        if (extra := stream.read()) != b"":
            raise ValueError("extra bytes in message", msg_type, subclass, kwargs, extra, msg)
        return subclass(tag, **kwargs)

    @classmethod
    def read_from_stream(cls, stream):
        """Reads exactly one size-prefixed frame from a blocking binary stream."""
        size = _SIZE.read(stream)
        return cls.from_bytes(stream.read(size))

    @classmethod
    async def read_from_async_stream(cls, stream):
        """Reads exactly one size-prefixed frame from an `asyncio.StreamReader`."""
        size = int.from_bytes(await stream.readexactly(4), "big")
        return cls.from_bytes(await stream.readexactly(size))

    def args_for_reply(self):
        return {}

    def make_reply(self, *args, **kwargs):
        """The `Reply` to this message, with the same tag."""
        return self.Reply(self.tag, **self.args_for_reply(*args, **kwargs))


class Ping(Message):
    """Checks the connection is alive; either side may send it."""

    type = 65

    class Fields:
        pass


class Init(Message):
    """Version negotiation, sent by the client when a session starts."""

    type = 68

    class Fields:
        version: Int(2)
        kwargs: RestDict(4)

    def args_for_reply(self):
        return {"version": 1, "kwargs": {}}


class CanTinit(Message):
    """The probe a mux peer sends to ask whether the other side speaks `Init`."""

    type = 127

    class Fields:
        message: Body()

    class Reply(Message):
        type = -128

    def args_for_reply(self):
        return {"message": b"tinit check"}


class DispatchStatus(enum.IntEnum):
    """The status of a `Dispatch.Reply`."""

    OK = 0
    ERROR = 1
    NACK = 2


class Dispatch(Message):
    """A call: context headers, destination, delegations and the (thrift) body."""

    type = 2

    class Fields:
        context: Dict(2, 2)
        destination: String(2)
        delegations: Dict(2, 2)
        body: Body()

    class Reply(Message):
        class Fields:
            status: Int(1)
            context: Dict(2, 2)
            body: Body()

    def args_for_reply(self, body, status=DispatchStatus.OK):
        return {"status": status, "context": self.context, "body": body}


class Discarded(Message):
    """Tells the peer to drop the call with tag `discard_tag`."""

    type = 66

    class Fields:
        discard_tag: Int(3)
        why: RestString()


class Lease(Message):
    """A server's lease grant: needs no reply, but must be understood when it arrives."""

    type = 67

    class Fields:
        unit: Int(1)
        howmuch: Int(8)


# Rdiscarded has its own number in the mux protocol, not the negated Tdiscarded.
_TYPES[-62] = Discarded
