"""The demo deployment's target service: a small HTTP server with realistic latency and a few errors.

GET /               a short JSON body
GET /products/N     a product after 5-60 ms, like a backend with a database behind it
GET /checkout       201 most of the time, 500 for about one request in twenty

`python3 demo_target.py [PORT]` (default 8000), on every interface of its container.
"""

import json
import random
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle delays the second by the
        # client's delayed ACK and every response looks 40 ms slower than it is.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        # One line per request would drown `make logs`.
        pass

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/products/"):
            time.sleep(random.uniform(0.005, 0.06))
            n = self.path.rsplit("/", 1)[-1]
            self._reply(200, {"id": n, "name": f"product {n}", "description": "x" * 900})
        elif self.path == "/checkout":
            time.sleep(random.uniform(0.01, 0.1))
            if random.random() < 0.05:
                self._reply(500, {"error": "payment service unavailable"})
            else:
                self._reply(201, {"order": random.randrange(10**6)})
        else:
            self._reply(200, {"ok": True})


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = ThreadingHTTPServer(("0.0.0.0", port), Target)
    server.daemon_threads = True
    print(f"demo target listening on port {port}", flush=True)
    server.serve_forever()
