"""A small HTTP target for the examples, on loopback only: `python target_server.py PORT`.

GET /            a short JSON body
GET /products/N  a product (about 1 KB of JSON), after a 5 ms pause like a real backend
POST /basket     201 with the JSON it was sent
GET /slow        answers after 200 ms
"""

import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle holds the second
        # until the client's delayed ACK (40 ms) and every response looks 40 ms slow.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
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
            time.sleep(0.005)
            n = self.path.rsplit("/", 1)[-1]
            self._reply(200, {"id": n, "name": f"product {n}", "description": "x" * 900})
        elif self.path == "/slow":
            time.sleep(0.2)
            self._reply(200, {"slow": True})
        else:
            self._reply(200, {"ok": True})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self._reply(201, json.loads(self.rfile.read(length) or b"{}"))


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    server = ThreadingHTTPServer(("127.0.0.1", port), Target)
    server.daemon_threads = True
    print(f"target listening on http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()
