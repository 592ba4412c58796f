"""A thrift service over Finagle's mux framing, for the finagle tests: the thrift compiler's
generated `Greeter.Processor` answers each call; the mux frames around it are read and written
here with `struct`, independently of mite_finagle.mux.

    python finagle_peer.py [--vanish-after N] [--ping-first]

(with the generated `greeter_service` package on PYTHONPATH) prints `finagle peer listening PORT`
once it accepts connections on 127.0.0.1. `--vanish-after N` answers N calls, then on the next
one drops every connection and exits (a service that vanishes mid-run); `--ping-first` sends the
client a mux Tping before each reply.
"""

import argparse
import asyncio
import os
import struct
import sys

from greeter_service import Greeter
from greeter_service.ttypes import GreetError, GreetResponse
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.transport.TTransport import TMemoryBuffer

TDISPATCH, RDISPATCH = 2, -2
TPING, RPING = 65, -65
TINIT, RINIT = 68, -68
PEER_PING_TAG = 0x7FFFFE  # a tag the client's own calls do not reach in a test


class Handler:
    def greet(self, request):
        return GreetResponse(greeting=f"Hello, {request.name}")

    def refuse(self, request):
        raise GreetError(why=f"no greeting for {request.name}")

    def echo(self, text):
        return text


def frame(msg_type, tag, payload=b""):
    return struct.pack(">Ib", len(payload) + 4, msg_type) + tag.to_bytes(3, "big") + payload


def tdispatch_body(payload):
    """The thrift bytes of a Tdispatch: after its context, destination and delegations."""
    pos = 0
    (pairs,) = struct.unpack_from(">H", payload, pos)
    pos += 2
    for _ in range(2 * pairs):
        (n,) = struct.unpack_from(">H", payload, pos)
        pos += 2 + n
    (n,) = struct.unpack_from(">H", payload, pos)
    pos += 2 + n
    (pairs,) = struct.unpack_from(">H", payload, pos)
    pos += 2
    for _ in range(2 * pairs):
        (n,) = struct.unpack_from(">H", payload, pos)
        pos += 2 + n
    return payload[pos:]


class Peer:
    def __init__(self, vanish_after, ping_first):
        self.processor = Greeter.Processor(Handler())
        self.vanish_after = vanish_after
        self.ping_first = ping_first
        self.calls = 0
        self.writers = set()

    def answer(self, body):
        out = TMemoryBuffer()
        self.processor.process(TBinaryProtocol(TMemoryBuffer(body)), TBinaryProtocol(out))
        return out.getvalue()

    def vanish(self):
        for writer in self.writers:
            writer.transport.abort()
        os._exit(0)

    async def serve(self, reader, writer):
        self.writers.add(writer)
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                msg = await reader.readexactly(size)
                (msg_type,) = struct.unpack_from(">b", msg)
                tag, payload = int.from_bytes(msg[1:4], "big"), msg[4:]
                if msg_type == TDISPATCH:
                    if self.vanish_after is not None and self.calls >= self.vanish_after:
                        self.vanish()
                    self.calls += 1
                    if self.ping_first:
                        writer.write(frame(TPING, PEER_PING_TAG))
                    reply = self.answer(tdispatch_body(payload))
                    writer.write(frame(RDISPATCH, tag, b"\x00\x00\x00" + reply))
                elif msg_type == TPING:
                    writer.write(frame(RPING, tag))
                elif msg_type == TINIT:
                    writer.write(frame(RINIT, tag, b"\x00\x01"))
                # Rping (the answer to ours) and anything else needs no reply.
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vanish-after", type=int)
    parser.add_argument("--ping-first", action="store_true")
    args = parser.parse_args()
    peer = Peer(args.vanish_after, args.ping_first)
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    print(f"finagle peer listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
