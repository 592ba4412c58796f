"""Public-API version of upstream test_mite_http.py's memoization test (`_session_pools`).

mite 2.11 checks that `@mite_http` keeps one session pool per event loop by reading the
private class dict. What a user sees of that: journeys run one after another on one loop share
the HTTP machinery, so a keep-alive connection opened by the first is reused by the second.
"""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mite_http import mite_http


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.peers.append(self.client_address)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.peers = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=30)


class _Ctx:
    """The least a journey context needs: config and send (as upstream's MockContext)."""

    def __init__(self):
        self.config = {}
        self.messages = []

    def send(self, type, **fields):
        self.messages.append((type, fields))


def test_journeys_on_one_loop_share_connections(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    @mite_http
    async def journey(ctx):
        await ctx.http.get(url)

    async def main():
        first, second = _Ctx(), _Ctx()
        await journey(first)
        await journey(second)
        return first, second

    first, second = asyncio.run(main())
    assert [t for t, _ in first.messages] == ["http_metrics"]
    assert [t for t, _ in second.messages] == ["http_metrics"]
    assert len(server.peers) == 2
    # one client port for both requests: the second journey reused the first one's connection
    assert server.peers[0] == server.peers[1]


def test_decorating_needs_no_running_loop():
    # The pool is looked up when the journey runs, not when it is decorated.
    @mite_http
    async def journey(ctx):
        pass

    assert asyncio.iscoroutinefunction(journey)
