"""WebSocket journeys: `@mite_websocket` gives `ctx.websocket`, which opens connections with the
`websockets` library and closes them when the journey ends; a protocol failure becomes a
`WebsocketError` (an `error` message), as in mite 2.11."""

import logging
from contextlib import asynccontextmanager

from mite._extras import MissingExtraError
from mite.exceptions import MiteError

__all__ = ["WebsocketError", "mite_websocket"]


try:
    # Looked up as `websockets.connect` at call time, so that tests may patch it.
    import websockets
    from websockets.exceptions import WebSocketException
except ImportError:
    raise MissingExtraError(
        'mite_websocket needs the websockets library: pip install "mite[websocket]"',
        name="websockets",
    ) from None

logger = logging.getLogger(__name__)


class WebsocketError(MiteError):
    """A websockets protocol failure (the peer closed, a bad handshake…) inside a journey."""


class _WebsocketWrapper:
    """`ctx.websocket`: connects and remembers each connection, to close it at the end."""

    def __init__(self):
        self.connections = []

    def install(self, context):
        context.websocket = self

    async def uninstall(self, context):
        # A copy: closing removes from the list (mite 2.11 iterated the list itself and so
        # skipped every second connection).
        for conn in list(self.connections):
            if conn:
                await self.close_connection(conn)
        del context.websocket

    async def connect(self, *args, **kwargs):
        conn = await websockets.connect(*args, **kwargs)
        self.connections.append(conn)
        return conn

    def get_connections(self):
        return self.connections

    async def close_connection(self, conn):
        await conn.close()
        if conn in self.connections:
            self.connections.remove(conn)


@asynccontextmanager
async def _websocket_context_manager(context):
    ww = _WebsocketWrapper()
    ww.install(context)
    try:
        yield
    except WebSocketException as e:
        raise WebsocketError(e) from e
    finally:
        await ww.uninstall(context)


def mite_websocket(func):
    """Runs the journey with `ctx.websocket` installed; every connection is closed afterwards."""

    async def wrapper(ctx, *args, **kwargs):
        async with _websocket_context_manager(ctx):
            return await func(ctx, *args, **kwargs)

    return wrapper
