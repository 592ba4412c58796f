"""A WebSocket scenario: each journey opens a connection, sends a few chat lines and checks that
every one comes back; 12 journeys, 3 at a time, then the test ends (about 5 s).

Needs a server that echoes text frames; this file is one: from this folder,
`python websocket_example.py 8766 &`, then
`MITE_CONF_websocket_url=ws://127.0.0.1:8766 mite scenario test websocket_example:scenario`
"""

from mite.datapools import IterableDataPool
from mite.exceptions import MiteError
from mite.volume_model import Constant
from mite_websocket import mite_websocket

LINES = ("hello", "how are you?", "bye")

users = IterableDataPool([(n,) for n in range(1, 13)])


@mite_websocket
async def chat(ctx, user):
    url = ctx.config.get("websocket_url", "ws://127.0.0.1:8766")
    async with ctx.transaction("connect"):
        conn = await ctx.websocket.connect(url)
    async with ctx.transaction("chat"):
        for line in LINES:
            await conn.send(f"user {user}: {line}")
        for line in LINES:
            reply = await conn.recv()
            if reply != f"user {user}: {line}":
                raise MiteError("unexpected echo", expected=line, got=reply)


def scenario():
    return [["websocket_example:chat", users, Constant(tps=3, duration=60)]]


def _echo_server(port):
    """Echoes every frame back, on 127.0.0.1:PORT, until interrupted."""
    from websockets.sync.server import serve

    def echo(conn):
        for frame in conn:
            conn.send(frame)

    with serve(echo, "127.0.0.1", port) as server:
        print(f"echo server on ws://127.0.0.1:{port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    import sys

    _echo_server(int(sys.argv[1]) if len(sys.argv) > 1 else 8766)
